#!/usr/bin/env bash
# test_passive_nat.sh — README.md's NAT case (a passive public end), with a real NAT in between:
#
#   A (behind NAT)            R (router, nftables masquerade)             B (public, passive)
#   veth0 198.18.1.2/24 ---- veth0 198.18.1.1/24 | veth1 198.18.0.1/24 ---- veth0 198.18.0.2/24
#   squtun -l 7778 -p 198.18.0.2 -r 7777 -a 2                              squtun -l 7777
#   tun0 10.99.0.1/30                                                      tun0 10.99.0.2/30
#
# B has no route to 198.18.1.0/24: it can only answer A through the address it learned from
# A's authenticated packets.  Checked: A pings B; B pings A; A's keepalives (-a 2) keep the NAT
# mapping alive across an idle period longer than the router's UDP timeout; B follows a NAT
# rebinding (new external port, same session) and A restarting on another -l port (roaming).
#
# usage: bash test_passive_nat.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

UDP_TIMEOUT=5

nat_world
# short UDP conntrack timeouts so the keepalive check below fits in seconds
ip netns exec "$NS_R" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=$UDP_TIMEOUT \
  net.netfilter.nf_conntrack_udp_timeout_stream=$UDP_TIMEOUT ||
  die "cannot set the router's UDP conntrack timeouts"

KEY=$E2E_TMP/site.key
make_key "$KEY"
tun_up "$NS_A" tun0 10.99.0.1/30
tun_up "$NS_B" tun0 10.99.0.2/30

step "passive B alone cannot reach anyone"
start_b -v -l 7777 -i tun0 -k "$KEY" --pidfile "$(pidfile_for b)"
! ns_ping "$NS_B" 10.99.0.1 || die "B reached 10.99.0.1 before A ever ran"
proc_alive "$PID_B" || die "passive squtun exited while it had no peer"
pass "passive end is up, silent, and has no peer yet"

step "active A (-p, -a 2) behind the NAT reaches passive B"
connect_a -v -l 7778 -p 198.18.0.2 -r 7777 -a 2 -i tun0 -k "$KEY" --pidfile "$(pidfile_for a)"
ping_report "$NS_A" 10.99.0.2 5
ping_report "$NS_B" 10.99.0.1 5
port=$(nat_port)
pass "B -> A ping works: B learned A's address 198.18.0.1:${port:-?} (NAT mapping of 198.18.1.2:7778)"

step "keepalives (-a 2) hold the NAT mapping through ${UDP_TIMEOUT}s+ of silence"
# An idle period under test, not a synchronisation: no application traffic for longer than the
# router's UDP timeout.  Only A's keepalives can keep the mapping B answers through.
quiet=$((UDP_TIMEOUT * 2))
info "no traffic for $quiet s (router forgets UDP flows after $UDP_TIMEOUT s)"
sleep "$quiet"
[[ -n $(nat_port) ]] || die "the router's NAT mapping for A expired: A sent no keepalive within $UDP_TIMEOUT s"
wait_for 3 ns_ping "$NS_B" 10.99.0.1 || die "after $quiet s idle, B cannot reach A: keepalives did not hold the NAT mapping"
pass "after $quiet s without traffic B still reaches A through NAT port $(nat_port)"

step "NAT rebinding: A's flow gets a new external port; B must follow"
old_port=$(nat_port)
ip netns exec "$NS_R" nft -f - <<'EOF' || die "could not change the NAT rule"
flush chain ip sqnat post
add rule ip sqnat post oifname "veth1" ip protocol udp masquerade to :40000-40999
add rule ip sqnat post oifname "veth1" masquerade
EOF
ip netns exec "$NS_R" conntrack -D -p udp >/dev/null 2>&1 || true
t0=$(now_ms)
# B speaks first: it must keep answering to the old port until A's next keepalive arrives from
# the new one, then switch.
wait_for 10 ns_ping "$NS_B" 10.99.0.1 || die "B did not follow A's new NAT port within 10 s (old port $old_port, now $(nat_port))"
new_port=$(nat_port)
[[ -n $new_port && $new_port -ge 40000 && $new_port -le 40999 ]] ||
  die "the rebinding did not happen (NAT port '$new_port'); the check would prove nothing"
pass "B reaches A again $(since "$t0") s after the rebinding: external port $old_port -> $new_port"
ping_report "$NS_A" 10.99.0.2 5
ping_report "$NS_B" 10.99.0.1 5

step "A restarts on another listen port (-l 7779); B follows"
stop_daemon "$PID_A" TERM
connect_a -v -l 7779 -p 198.18.0.2 -r 7777 -a 2 -i tun0 -k "$KEY" --pidfile "$(pidfile_for a)"
[[ -n $(nat_port 7779) ]] || die "the router saw no flow from A's new port 7779"
pass "A on port 7779 (NAT port $(nat_port 7779)) and B reach each other after the restart"
proc_alive "$PID_B" || die "passive squtun (pid $PID_B) died"
ping_report "$NS_B" 10.99.0.1 5

stop_daemon "$PID_A" TERM
stop_daemon "$PID_B" TERM
