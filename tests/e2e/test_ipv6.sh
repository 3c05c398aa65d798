#!/usr/bin/env bash
# test_ipv6.sh — IPv6 under and inside the tunnel:
#   0. -m accounts for the IPv6 header: squtun -m 1500 -p 2001:2::2 prints 1420 (so do
#      -b 2001:2::1 and a host name -p, which is not looked up); -b and -p of different
#      families are refused.
#   1. static pair over an IPv6-only underlay (2001:2::1/64 <-> 2001:2::2/64 on the veth,
#      no IPv4 there at all), A bound to its address with -b; tun0 carries 10.99.0.x/30 and
#      fd00::x/64: ping, ping -6, and a sha256-checked TCP transfer over inner IPv6.
#      -b with an address the host does not have fails at start, naming it.
#   2. a passive end (no -p) learns its peer's IPv6 address and answers it.
# (test_peer_names.sh covers a static pair with -p IPv6 and IPv4 inner traffic only.)
#
# usage: bash test_ipv6.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

V6_A=2001:2::1
V6_B=2001:2::2
IN4_A=10.99.0.1 IN4_B=10.99.0.2
IN6_A=fd00::1 IN6_B=fd00::2

# ---------------------------------------------------------------------------------------------
step "0. -m with an IPv6 underlay; -b and -p families"
expect_mtu() {
  local want=$1 got
  shift
  got=$("$SQUTUN" -m 1500 "$@") || die "squtun -m 1500 $* failed"
  [[ $got == "$want" ]] || die "squtun -m 1500 $* printed '$got', expected $want"
  info "squtun -m 1500 $* -> $got"
}
expect_mtu 1420 -p "$V6_B"
expect_mtu 1420 -b "$V6_A"
expect_mtu 1440 -p 198.18.0.2
expect_mtu 1420 -p peer.squtun.test      # a name may resolve to either family: the safe figure
expect_mtu 1440 -p peer.squtun.test -b 198.18.0.1
expect_mtu 1406 -p "$V6_B" --tap
MTU6=$("$SQUTUN" -m 1500 -p "$V6_B")
rc=0
out=$("$SQUTUN" -f -l 7778 -b 198.18.0.1 -p "$V6_B" -r 7777 -i tun0 -k /nonexistent 2>&1) || rc=$?
[[ $rc == 2 && $out == *"-b 198.18.0.1 is an IPv4 address and cannot reach the IPv6 peer -p $V6_B"* ]] ||
  die "-b IPv4 with -p IPv6: expected exit 2 naming both, got exit $rc: $out"
rc=0
out=$("$SQUTUN" -f -l 7778 -b not-an-address -i tun0 -k /nonexistent 2>&1) || rc=$?
[[ $rc == 2 && $out == *"not-an-address"* ]] || die "-b not-an-address: expected exit 2 naming it, got exit $rc: $out"
pass "-m subtracts 80 for IPv6; -b of the wrong family or not an address refused (exit 2)"

# ---------------------------------------------------------------------------------------------
step "1. static pair over an IPv6-only underlay, IPv4 and IPv6 inside"
netns_new a
NS_A=$NETNS_NAME
netns_new b
NS_B=$NETNS_NAME
# lib.sh turns IPv6 off in its namespaces; turn it on for just the devices of this test.
ipv6_on() { ip netns exec "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=0"; }
ip -n "$NS_A" link add veth0 type veth peer name veth0 netns "$NS_B" || die "creating the veth pair failed"
for ns in "$NS_A" "$NS_B"; do ipv6_on "$ns" veth0; done
ip -n "$NS_A" addr add "$V6_A/64" dev veth0 nodad
ip -n "$NS_B" addr add "$V6_B/64" dev veth0 nodad
ip -n "$NS_A" link set veth0 up
ip -n "$NS_B" link set veth0 up
v6_ping() { ip netns exec "$1" ping -6 -n -q -c 1 -W 1 "$2" >/dev/null 2>&1; }
wait_for 10 v6_ping "$NS_A" "$V6_B" || die "IPv6 underlay $V6_A <-> $V6_B does not pass ping"
[[ -z $(ip -n "$NS_A" -4 addr show dev veth0) ]] || die "the underlay veth has an IPv4 address"
info "underlay: $NS_A $V6_A <-> $NS_B $V6_B (IPv6 only), TUN MTU $MTU6"

tun6_up() {
  local ns=$1 a4=$2 a6=$3
  ip -n "$ns" tuntap add dev tun0 mode tun || die "ip tuntap add tun0 in $ns failed"
  ipv6_on "$ns" tun0
  ip -n "$ns" addr add "$a4/30" dev tun0
  ip -n "$ns" addr add "$a6/64" dev tun0 nodad
  ip -n "$ns" link set dev tun0 mtu "$MTU6" up
}
tun6_up "$NS_A" "$IN4_A" "$IN6_A"
tun6_up "$NS_B" "$IN4_B" "$IN6_B"
KEY=$E2E_TMP/site.key
make_key "$KEY"
# Pid files (and the control sockets beside them) in our temp dir, not /var/run/squtun,
# where both ends' tun0 would share one name.
pidfile() { echo "--pidfile=$E2E_TMP/squtun-$1.pid"; }

start_daemon "$NS_A" "$(pidfile a)" -v -l 7778 -b "$V6_A" -p "$V6_B" -r 7777 -i tun0 -k "$KEY"
PID_A=$DAEMON_PID
start_daemon "$NS_B" "$(pidfile b)" -v -l 7777 -p "$V6_A" -r 7778 -i tun0 -k "$KEY"
PID_B=$DAEMON_PID
t0=$(now_ms)
wait_for 10 ns_ping "$NS_A" "$IN4_B" || die "no IPv4 ping through the tunnel over the IPv6 underlay"
pass "tunnel up over IPv6 in $(since "$t0") s"
wait_for 10 v6_ping "$NS_A" "$IN6_B" || die "no IPv6 ping ($IN6_A -> $IN6_B) through the tunnel"
# -b: A listens on its one address only; B on every address.
sockets_a=$(ip netns exec "$NS_A" ss -Huan "sport = :7778")
[[ $sockets_a == *"[$V6_A]:7778"* ]] || die "A is not bound to [$V6_A]:7778 (-b): $sockets_a"
info "A's socket: $(tr -s ' ' <<<"$sockets_a")"
ping_report "$NS_A" "$IN4_B" 5
ping_report "$NS_A" "$IN6_B" 5
ping_report "$NS_B" "$IN6_A" 5

rx0=$(link_stat "$NS_B" veth0 rx_bytes)
tun_rx0=$(link_stat "$NS_B" tun0 rx_bytes)
tcp_transfer "$NS_A" "$NS_B" "$IN6_B" 5001 16
(($(link_stat "$NS_B" veth0 rx_bytes) - rx0 >= 16 * 1024 * 1024)) || die "the transfer did not cross the IPv6 veth"
(($(link_stat "$NS_B" tun0 rx_bytes) - tun_rx0 >= 16 * 1024 * 1024)) || die "the transfer did not come out of B's tun0"
tcp_transfer "$NS_B" "$NS_A" "$IN6_A" 5002 4
stop_daemon "$PID_A" TERM
stop_daemon "$PID_B" TERM
pass "IPv6 underlay with -b: ping, ping -6, 16 MiB + 4 MiB over inner IPv6 sha256-checked"

# -b with an address this host does not have: refused at start, naming it (exit 1).
rc=0
out=$(ip netns exec "$NS_A" timeout 20 "$SQUTUN" -f "$(pidfile a)" -l 7778 -b 2001:2::99 -p "$V6_B" -r 7777 -i tun0 -k "$KEY" 2>&1) || rc=$?
[[ $rc == 1 && $out == *"2001:2::99"* && $out == *"7778"* ]] ||
  die "-b 2001:2::99 (not ours): expected exit 1 naming the address and port, got exit $rc: $out"
info "-b 2001:2::99: $out"
pass "-b with a foreign address refused at start"

# ---------------------------------------------------------------------------------------------
step "2. a passive end learns an IPv6 peer"
start_pair "$(pidfile b)" -v -l 7777 -i tun0 -k "$KEY" -- "$(pidfile a)" -v -l 7778 -p "$V6_B" -r 7777 -i tun0 -k "$KEY"
wait_for 5 v6_ping "$NS_A" "$IN6_B" || die "no IPv6 ping from the active end to the passive one"
pass "active -> passive over the IPv6 underlay, IPv4 and IPv6 inside"
learned() { grep -qF "peer is now at [$V6_A]:7778" "$LOG_B"; }
wait_for 5 learned || die "passive B did not log learning its peer [$V6_A]:7778"
ping_report "$NS_B" "$IN6_A" 5   # B starts these: it must know where A is
ping_report "$NS_B" "$IN4_A" 3
tcp_transfer "$NS_B" "$NS_A" "$IN6_A" 5003 4
stop_daemon "$PID_A" TERM
stop_daemon "$PID_B" TERM
pass "passive end learned [$V6_A]:7778 and reached it"
