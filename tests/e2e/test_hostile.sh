#!/usr/bin/env bash
# test_hostile.sh — what an unauthenticated sender gets from squtun: nothing.
# B is passive (no -p), so it would accept its peer from anywhere that authenticates.  From
# A's namespace, on other source ports, we send malformed datagrams, well-sized messages of
# each type with random contents, and the real protocol under a wrong key.  Checked:
#   - no datagram ever comes back (silence), the daemon keeps running, its drop counters rise;
#   - none of it makes B adopt a peer: B has no peer before the real A, and keeps the real A
#     (ping B -> A still works) when the same junk arrives during a live session.
#
# usage: bash test_hostile.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

netns_pair
KEY=$E2E_TMP/site.key
WRONG=$E2E_TMP/wrong.key
make_key "$KEY"
make_key "$WRONG"
tun_up "$NS_A" tun0 10.99.0.1/30
tun_up "$NS_B" tun0 10.99.0.2/30

start_daemon "$NS_B" -v -l 7777 -i tun0 -k "$KEY"
PID_B=$DAEMON_PID LOG_B=$DAEMON_LOG
wait_for 10 udp_listening "$NS_B" 7777 || die "passive squtun does not listen on UDP 7777"

# junk NAME — write datagram NAME to stdout
junk() {
  case $1 in
    1-byte) printf '\x01' ;;
    short-initiation) printf '\x01\x00\x00\x00' ;;
    reserved-bytes-set) printf '\x03\x01\x02\x03'; head -c 60 /dev/urandom ;;
    unknown-type) printf '\x07\x00\x00\x00'; head -c 60 /dev/urandom ;;
    initiation-64) printf '\x01\x00\x00\x00'; head -c 60 /dev/urandom ;;
    response-60) printf '\x02\x00\x00\x00'; head -c 56 /dev/urandom ;;
    keepalive-32) printf '\x03\x00\x00\x00'; head -c 28 /dev/urandom ;;
    data-116) printf '\x03\x00\x00\x00'; head -c 112 /dev/urandom ;;
    random-1400) head -c 1400 /dev/urandom ;;
  esac
}
JUNK=(1-byte short-initiation reserved-bytes-set unknown-type initiation-64 response-60 keepalive-32 data-116 random-1400)

# send_junk SPORT — every kind of junk, 3 times each, from A's namespace; any reply fails
send_junk() {
  local sport=$1 kind i reply
  for kind in "${JUNK[@]}"; do
    for i in 1 2 3; do
      # From a file, so socat reads it in one piece and sends one datagram (from a pipe,
      # a slow writer could split it in two).
      junk "$kind" >"$E2E_TMP/junk.bin"
      reply=$(ip netns exec "$NS_A" timeout 5 socat -T 0.5 - \
        "UDP:198.18.0.2:7777,sourceport=$sport,reuseaddr" <"$E2E_TMP/junk.bin" 2>/dev/null |
        head -c 64 | od -An -tx1 | head -n 2) || true
      [[ -z $reply ]] || die "squtun answered junk '$kind' (try $i) from port $sport with: $reply"
    done
  done
  proc_alive "$PID_B" || die "squtun died on junk from port $sport"
}

drops() {
  local out
  out=$(usr1_counters "$PID_B" "$LOG_B") || die "no counters after SIGUSR1"
  grep -o 'drops.*' <<<"$out" | tail -n 1
}
bad_mac() { grep -o 'bad_mac=[0-9]*' <<<"$(drops)" | cut -d= -f2; }
bad_mac_above() { (($(bad_mac) > $1)); }

step "junk before any peer: silence, and no peer adopted"
send_junk 9999
d=$(drops)
info "B's drop counters: $d"
for c in malformed bad_mac; do
  n=$(grep -o "$c=[0-9]*" <<<"$d" | cut -d= -f2)
  [[ ${n:-0} -gt 0 ]] || die "counter $c did not rise ($d)"
done
! ns_ping "$NS_B" 10.99.0.1 || die "B reached 10.99.0.1 with no real peer"
pass "${#JUNK[@]} kinds of junk x3: no reply, daemon alive, drops counted, no peer adopted"

step "the real protocol under a wrong key"
start_daemon "$NS_A" -v -l 7790 -p 198.18.0.2 -r 7777 -i tun0 -k "$WRONG"
PID_W=$DAEMON_PID
if wait_for 4 ns_ping "$NS_A" 10.99.0.2; then
  die "a tunnel came up between ends with different keys"
fi
stop_daemon "$PID_W" TERM
n=$(grep -o 'bad_mac=[0-9]*' <<<"$(drops)" | cut -d= -f2)
pass "wrong-key initiations refused (bad_mac now ${n:-?}); no tunnel"

step "the real peer connects; junk and a wrong-key end during the session change nothing"
start_daemon "$NS_A" -v -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$KEY"
PID_A=$DAEMON_PID
wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "the real peer cannot reach B after the junk"
wait_for 5 ns_ping "$NS_B" 10.99.0.1 || die "B cannot reach the real peer"
send_junk 9998
before=$(bad_mac)
start_daemon "$NS_A" -v -l 7791 -p 198.18.0.2 -r 7777 -a 1 -i "sqw$$" -k "$WRONG"
PID_W=$DAEMON_PID
wait_for 10 bad_mac_above $((before + 1)) || die "B did not count the wrong-key end's initiations as bad_mac"
stop_daemon "$PID_W" TERM
ping_report "$NS_B" 10.99.0.1 5
if grep -i 'peer is now' "$LOG_B" | grep -qE ':(9998|9999|7790|7791)'; then
  die "B adopted a junk or wrong-key sender as its peer: $(grep -i 'peer is now' "$LOG_B")"
fi
pass "B kept the real peer ($(grep -i 'peer is now' "$LOG_B" | tail -n 1 | sed 's/.*peer is now at //'))"
stop_daemon "$PID_A" TERM
stop_daemon "$PID_B" TERM
