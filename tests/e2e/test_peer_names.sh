#!/usr/bin/env bash
# ctest: machine (/etc/netns/NS/hosts)
# test_peer_names.sh — -p takes an IPv6 address or a host name, not only IPv4:
#   1. IPv6 underlay (2001:2::/48, the IPv6 benchmarking range of RFC 5180, inside the
#      namespaces only): -p 2001:2:0:1::2, TUN MTU from squtun -m 1500 -p <IPv6> (80 bytes
#      overhead); ping and a sha256-checked transfer.
#   2. host names: each namespace gets its own /etc/hosts (ip netns exec bind-mounts
#      /etc/netns/NAME/hosts) naming the other end; -p peer-b.squtun.test.
#
# usage: bash test_peer_names.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

netns_pair
KEY=$E2E_TMP/site.key
make_key "$KEY"

step "1. IPv6 underlay"
V6_A=2001:2:0:1::1
V6_B=2001:2:0:1::2
for ns in "$NS_A" "$NS_B"; do
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.veth0.disable_ipv6=0
done
ip -n "$NS_A" addr add "$V6_A/64" dev veth0 nodad
ip -n "$NS_B" addr add "$V6_B/64" dev veth0 nodad
v6_ping() { ip netns exec "$1" ping -6 -n -q -c 1 -W 1 "$2" >/dev/null 2>&1; }
wait_for 10 v6_ping "$NS_A" "$V6_B" || die "IPv6 underlay $V6_A <-> $V6_B does not pass ping"
MTU6=$("$SQUTUN" -m 1500 -p "$V6_B")
[[ $MTU6 == $((TUN_MTU - 20)) ]] || die "squtun -m 1500 -p $V6_B printed '$MTU6', expected $((TUN_MTU - 20)) (IPv6 header is 20 bytes longer)"
info "TUN MTU for an IPv6 underlay: $MTU6"
for ns in "$NS_A" "$NS_B"; do
  ip -n "$ns" tuntap add dev tun0 mode tun
  ip -n "$ns" link set dev tun0 mtu "$MTU6" up
done
ip -n "$NS_A" addr add 10.99.0.1/30 dev tun0
ip -n "$NS_B" addr add 10.99.0.2/30 dev tun0

start_daemon "$NS_A" -v -l 7778 -p "$V6_B" -r 7777 -i tun0 -k "$KEY" --pidfile "$(pidfile_for a)"
PID_A=$DAEMON_PID
start_daemon "$NS_B" -v -l 7777 -p "$V6_A" -r 7778 -i tun0 -k "$KEY" --pidfile "$(pidfile_for b)"
PID_B=$DAEMON_PID
t0=$(now_ms)
wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "no ping through the tunnel over the IPv6 underlay"
pass "tunnel over IPv6 up in $(since "$t0") s"
ping_report "$NS_A" 10.99.0.2 5
ping_report "$NS_B" 10.99.0.1 5
v6_rx0=$(link_stat "$NS_B" veth0 rx_bytes)
tcp_transfer "$NS_A" "$NS_B" 10.99.0.2 5001 8
(($(link_stat "$NS_B" veth0 rx_bytes) - v6_rx0 >= 8 * 1024 * 1024)) || die "the transfer did not cross the veth"
stop_daemon "$PID_A" TERM
stop_daemon "$PID_B" TERM
pass "IPv6 underlay: ping and 8 MiB sha256-checked"

step "2. peers given by host name"
# per-namespace /etc/hosts; cleanup removes what we add under /etc/netns
if [[ ! -d /etc/netns ]]; then
  mkdir -m 0755 /etc/netns
  atexit rmdir /etc/netns
fi
for ns in "$NS_A" "$NS_B"; do
  mkdir -m 0755 "/etc/netns/$ns"
  atexit rm -rf "/etc/netns/$ns"
  cat >"/etc/netns/$ns/hosts" <<EOF
127.0.0.1 localhost
198.18.0.1 peer-a.squtun.test
198.18.0.2 peer-b.squtun.test
EOF
done
resolves() { ip netns exec "$1" getent hosts "$2" | grep -q "$3"; }
resolves "$NS_A" peer-b.squtun.test 198.18.0.2 || die "peer-b.squtun.test does not resolve in $NS_A (/etc/netns hosts file not used?)"
ip -n "$NS_A" link set dev tun0 mtu "$TUN_MTU"
ip -n "$NS_B" link set dev tun0 mtu "$TUN_MTU"
start_daemon "$NS_A" -v -l 7778 -p peer-b.squtun.test -r 7777 -i tun0 -k "$KEY" --pidfile "$(pidfile_for a)"
PID_A=$DAEMON_PID
start_daemon "$NS_B" -v -l 7777 -p peer-a.squtun.test -r 7778 -i tun0 -k "$KEY" --pidfile "$(pidfile_for b)"
PID_B=$DAEMON_PID
t0=$(now_ms)
wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "no ping through the tunnel with peers given by name"
pass "tunnel with -p peer-b.squtun.test / peer-a.squtun.test up in $(since "$t0") s"
ping_report "$NS_B" 10.99.0.1 5
stop_daemon "$PID_A" TERM
stop_daemon "$PID_B" TERM
