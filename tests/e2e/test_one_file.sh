#!/usr/bin/env bash
# test_one_file.sh — a tunnel described by its config file alone: squtun gives tun0 its
# addresses (IPv4 and IPv6), its routes and its MTU through netlink; nobody runs `ip addr`.
#   A: active, lets squtun create tun0; mtu = auto (veth0's MTU 1400 less 60), routes to
#      10.77.0.0/24 (B's LAN: 10.77.0.1 on its lo) and fd00:77::/64 through the tunnel
#   B: passive, a persistent tun0 made beforehand without any address; mtu = 1340
# Checks the addresses, the route, the MTUs and the link state as `ip` shows them, ping over
# IPv4, IPv6 and the route, pings of exactly the MTU with DF, sha256-checked transfers both
# ways; restarts B with the same file (its addresses already on tun0: no error); a daemon
# without CAP_NET_ADMIN is refused, naming what it could not set; mtu auto follows a route's
# own MTU; an IPv6 address on a device without IPv6 is refused naming the likely cause.
#
# usage: bash test_one_file.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

UNDERLAY_MTU=1400
TUNNEL_MTU=$((UNDERLAY_MTU - 60))   # an IPv4 underlay: what `squtun -m 1400` prints
[[ $("$SQUTUN" -m "$UNDERLAY_MTU") == "$TUNNEL_MTU" ]] || die "squtun -m $UNDERLAY_MTU does not print $TUNNEL_MTU"

netns_pair
for ns in "$NS_A" "$NS_B"; do
  ip -n "$ns" link set veth0 mtu "$UNDERLAY_MTU"
  # lib.sh turns IPv6 off in its namespaces; tun0, made after this, gets it back.
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=0
done
ip -n "$NS_B" tuntap add dev tun0 mode tun || die "ip tuntap add tun0 in $NS_B failed"
ip -n "$NS_B" addr add 10.77.0.1/32 dev lo   # B's LAN, as far as A can tell
KEY=$E2E_TMP/site.key
make_key "$KEY"
PF_A=$(pidfile_for a) PF_B=$(pidfile_for b)

cat >"$E2E_TMP/a.conf" <<CONF
# A: the active end
listen = 7778
peer = 198.18.0.2
peer-port = 7777
interface = tun0
key = $KEY
address = 10.99.0.1/30
address = fd00::1/64
route = 10.77.0.0/24
route = fd00:77::/64
mtu = auto
CONF
cat >"$E2E_TMP/b.conf" <<CONF
# B: the passive end
listen = 7777
interface = tun0
key = $KEY
address = 10.99.0.2/30
address = fd00::2/64
mtu = $TUNNEL_MTU
CONF

# expect_device NS MTU ADDRESS... — tun0 in NS is up, has MTU and each ADDRESS
expect_device() {
  local ns=$1 mtu=$2 link addresses a
  shift 2
  link=$(ip -n "$ns" -o link show dev tun0) || die "no tun0 in $ns"
  [[ $link == *"<"*UP*">"* ]] || die "tun0 in $ns is not up: $link"
  [[ $link == *" mtu $mtu "* ]] || die "tun0 in $ns does not have MTU $mtu: $link"
  addresses=$(ip -n "$ns" -o addr show dev tun0)
  for a in "$@"; do
    grep -qF " $a " <<<"$addresses" || die "tun0 in $ns lacks $a:"$'\n'"$addresses"
  done
  info "$ns tun0: mtu $mtu, up, $*"
}

# pings_through NS ADDR MTU — pings ADDR, then one packet of exactly MTU bytes that may not be
# fragmented (an IPv4 header of 20 and ICMP 8 around the payload)
pings_through() {
  ping_report "$1" "$2" 5
  ip netns exec "$1" ping -n -q -c 3 -i 0.2 -W 2 -M "do" -s $(($3 - 28)) "$2" >/dev/null ||
    die "a $3-byte packet with DF from $1 to $2 does not get through"
}

step "start both ends from their files alone"
! link_exists "$NS_A" tun0 || die "tun0 exists in $NS_A before squtun made it"
[[ -z $(ip -n "$NS_B" -o addr show dev tun0) ]] || die "B's tun0 has an address before squtun runs"
start_daemon "$NS_B" -v --config "$E2E_TMP/b.conf" --pidfile "$PF_B"
PID_B=$DAEMON_PID
wait_for 10 udp_bound "$NS_B" "$PID_B" || die "B has no UDP socket 10 s after it started"
start_daemon "$NS_A" -v --config "$E2E_TMP/a.conf" --pidfile "$PF_A"
PID_A=$DAEMON_PID LOG_A=$DAEMON_LOG
wait_for 10 udp_bound "$NS_A" "$PID_A" || die "A has no UDP socket 10 s after it started"
expect_device "$NS_A" "$TUNNEL_MTU" 10.99.0.1/30 fd00::1/64
expect_device "$NS_B" "$TUNNEL_MTU" 10.99.0.2/30 fd00::2/64
[[ $(route_dev "$NS_A" 10.77.0.9) == tun0 ]] || die "10.77.0.0/24 does not route via tun0 in $NS_A: $(ip -n "$NS_A" route)"
[[ $(route_dev "$NS_A" fd00:77::9) == tun0 ]] || die "fd00:77::/64 does not route via tun0 in $NS_A: $(ip -n "$NS_A" -6 route)"
grep -q "mtu auto: the path to 198.18.0.2:7777 (veth0 MTU $UNDERLAY_MTU) makes it $TUNNEL_MTU" "$LOG_A" ||
  die "A did not log how it found its MTU"
pass "tun0 has its addresses, MTU ($TUNNEL_MTU: auto at A, a number at B) and route, and is up"

step "traffic over IPv4, IPv6 and the route"
wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "A cannot ping B through the tunnel within 10 s"
pings_through "$NS_A" 10.99.0.2 "$TUNNEL_MTU"
pings_through "$NS_B" 10.99.0.1 "$TUNNEL_MTU"
ping_report "$NS_A" fd00::2 5
ping_report "$NS_B" fd00::1 5
ping_report "$NS_A" 10.77.0.1 5
tcp_transfer "$NS_A" "$NS_B" 10.99.0.2 5001 16
tcp_transfer "$NS_B" "$NS_A" fd00::1 5002 16
pass "pings (IPv4 up to the MTU with DF, IPv6, B's LAN by the route) and 16 MiB each way, sha256-checked"

step "restart B with the same file: its addresses are on tun0 already"
stop_daemon "$PID_B" TERM
expect_device "$NS_B" "$TUNNEL_MTU" 10.99.0.2/30 fd00::2/64
start_daemon "$NS_B" -v --config "$E2E_TMP/b.conf" --pidfile "$PF_B"
PID_B=$DAEMON_PID
wait_for 10 udp_bound "$NS_B" "$PID_B" || die "B did not start again with its addresses already set: $(tail -n 5 "$DAEMON_LOG")"
[[ $(ip -n "$NS_B" -o addr show dev tun0 | grep -c ' 10.99.0.2/30 ') == 1 ]] || die "B's tun0 has 10.99.0.2/30 twice"
wait_for 15 ns_ping "$NS_A" 10.99.0.2 || die "no ping through the tunnel after B's restart"
tcp_transfer "$NS_A" "$NS_B" fd00::2 5003 4
pass "B restarted on a tun0 that had its addresses; traffic flows again"

step "without CAP_NET_ADMIN the settings are refused, naming them"
ip -n "$NS_B" tuntap add dev tun9 mode tun || die "ip tuntap add tun9 failed"
rc=0
out=$(ip netns exec "$NS_B" setpriv --inh-caps=-net_admin --bounding-set=-net_admin \
  "$SQUTUN" -f -l 7790 -i tun9 -k "$KEY" --address 10.98.0.1/30 2>&1) || rc=$?
[[ $rc == 1 && $out == *"tun9 up: netlink RTM_NEWLINK: Operation not permitted"*"needs root"* ]] ||
  die "squtun --address without CAP_NET_ADMIN: expected exit 1 naming what it set, got exit $rc: $out"
[[ -z $(ip -n "$NS_B" -o addr show dev tun9) ]] || die "tun9 got an address from a squtun without CAP_NET_ADMIN"
info "$out"
pass "refused without CAP_NET_ADMIN (exit 1, the kernel's reason and what to do)"

step "mtu auto takes a route's MTU below its device's; an IPv6 address on a device without IPv6 is refused"
ip -n "$NS_A" route add 198.18.0.2/32 dev veth0 mtu 1300
start_daemon "$NS_A" -l 7795 -p 198.18.0.2 -r 7777 -i tun7 -k "$KEY" --tun-mtu auto --pidfile "$(pidfile_for a7)"
PID_A7=$DAEMON_PID
wait_for 10 udp_bound "$NS_A" "$PID_A7" || die "squtun on tun7 did not start: $(tail -n 5 "$DAEMON_LOG")"
[[ $(ip -n "$NS_A" -o link show dev tun7) == *" mtu 1240 "* ]] ||
  die "mtu auto with a route MTU of 1300 did not give 1240: $(ip -n "$NS_A" -o link show dev tun7)"
stop_daemon "$PID_A7" TERM
ip -n "$NS_A" route del 198.18.0.2/32 dev veth0
ip netns exec "$NS_A" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
rc=0
out=$(ip netns exec "$NS_A" "$SQUTUN" -f -l 7796 -i tun6 -k "$KEY" --address fd00:6::1/64 2>&1) || rc=$?
[[ $rc == 1 && $out == *"address fd00:6::1/64: netlink RTM_NEWADDR: Permission denied; is IPv6 off on tun6"* ]] ||
  die "an IPv6 address on a device without IPv6: expected exit 1 naming the address and the cause, got exit $rc: $out"
pass "route MTU 1300 made the tunnel MTU 1240; IPv6 off named as the likely cause"
