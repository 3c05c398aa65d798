#!/usr/bin/env bash
# test_fault_nat.sh — a real NAT between the ends, whose mapping is flushed
# so the peer's outside port changes; the passive end must follow within the keepalive
# interval plus a second.
#
#   A (behind NAT)            R (router: nftables masquerade random)      B (public, passive)
#   veth0 198.18.1.2/24 ---- veth0 198.18.1.1/24 | veth1 198.18.0.1/24 ---- veth0 198.18.0.2/24
#   squtun -l 7778 -p 198.18.0.2 -r 7777 -a 3                              squtun -l 7777
#
# B has no route to 198.18.1.0/24: it reaches A only through the address it learned from A's
# authenticated packets (198.18.0.1:PORT, PORT chosen at random by the masquerade).  Checked:
# B learns the NATed peer (`squtun show`: peer 198.18.0.1:PORT, the router's mapping) and
# reaches A through it.  Then, three times, with the tunnel idle: `conntrack -F` in R (the
# mapping is gone; A's next packet gets a new random port), and B's peer is polled (every
# 0.1 s) until it names the new port, which must happen within A's keepalive interval (3 s)
# plus 1 s of the flush; B then reaches A through the new mapping.  Once more with pings
# running (the data itself re-teaches B).  Each time printed: old and new port and the time
# B took to follow.  Then a sha256-checked transfer each way.
#
# usage: bash test_fault_nat.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/e2e/attack_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/attack_lib.sh"
e2e_init "$@"
attack_init

KEEPALIVE=3
FOLLOW_LIMIT_MS=$(((KEEPALIVE + 1) * 1000))

nat_world random
tunnel_ends

b_peer() { show_counter "$NS_B" "$PF_B" peer; }

step "B learns the NATed peer"
start_pair -v -l 7777 -i tun0 -k "$KEY" --pidfile "$PF_B" -- \
  -v -l 7778 -p 198.18.0.2 -r 7777 -a "$KEEPALIVE" -i tun0 -k "$KEY" --pidfile "$PF_A"
PORT=$(nat_port)
[[ -n $PORT ]] || die "no NAT mapping for A's flow in the router"
[[ $(b_peer) == "198.18.0.1:$PORT" ]] || die "B's peer is $(b_peer), the NAT mapping is 198.18.0.1:$PORT"
pass "B's peer is 198.18.0.1:$PORT, A's mapping in the NAT (198.18.1.2:7778 inside)"

# flush_and_follow LABEL — flush R's conntrack table; time until B's peer names A's new port
flush_and_follow() {
  local label=$1 old new t0 ms tries=0 peer
  old=$(b_peer)
  while :; do
    tries=$((tries + 1))
    ip netns exec "$NS_R" conntrack -F >/dev/null 2>&1 || die "conntrack -F failed"
    t0=$(now_ms)
    moved() { peer=$(b_peer); [[ $peer != "$old" ]]; }
    if wait_for 10 moved; then
      ms=$(($(now_ms) - t0))
      break
    fi
    # masquerade random drew the same port again (about 1 in 64000): flush once more
    new=$(nat_port)
    [[ $new == "${old#*:}" && $tries -lt 3 ]] || die "$label: B's peer stayed $old for 10 s after the flush (NAT port now ${new:-none})"
  done
  new=$(nat_port)
  [[ $peer == "198.18.0.1:$new" ]] || die "$label: B's peer is now $peer, the new NAT mapping is 198.18.0.1:${new:-none}"
  wait_for 5 ns_ping "$NS_B" 10.99.0.1 || die "$label: B cannot reach A through the new mapping"
  info "$label: $old -> $peer: B followed $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s after the flush"
  ((ms <= FOLLOW_LIMIT_MS)) || die "$label: B followed only after $ms ms (limit: keepalive ${KEEPALIVE} s + 1 s)"
  RESULTS+=("$(printf '%-24s port %5s -> %5s, B followed after %d.%03d s (limit %d s)' "$label" "${old#*:}" "$new" $((ms / 1000)) $((ms % 1000)) $((KEEPALIVE + 1)))")
  pass "$label: B followed the new NAT port $new after $ms ms"
}

step "NAT mapping flushed with the tunnel idle: A's keepalive re-teaches B"
for i in 1 2 3; do
  flush_and_follow "idle, flush $i"
done

step "NAT mapping flushed while pings flow"
spawn helper ping-flow "$NS_A" ping -n -i 0.1 -W 1 10.99.0.2
PING_PID=$SPAWN_PID
flush_and_follow "with traffic"
stop_helper "$PING_PID" INT

step "the tunnel works"
ping_report "$NS_B" 10.99.0.1 5
transfers_both_ways 8 5001
{ proc_alive "$PID_A" && proc_alive "$PID_B"; } || die "a daemon died"
stop_daemon "$PID_A" TERM
stop_daemon "$PID_B" TERM

step "summary"
printf '    %s\n' "${RESULTS[@]}"
