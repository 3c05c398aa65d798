#!/usr/bin/env bash
# test_tap.sh — --tap bridges two Ethernet segments across the tunnel.
#
#   LAN host A (10.77.0.1/24)                                      LAN host B (10.77.0.2/24)
#        eth0 ── lan0 ┐                                         ┌ lan0 ── eth0
#                     br0 ── tap0 ═ squtun --tap ═ 198.18.0.x ═ squtun --tap ═ tap0 ── br0
#
# The tunnel namespaces only bridge (no address on br0); the LAN hosts share one subnet,
# so they find each other by ARP across the tunnel and then talk: ping both ways, ARP
# entries naming the far host's own MAC, and a sha256-checked TCP transfer at the MTU
# squtun -m 1500 --tap gives.
#
# usage: bash test_tap.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

LAN_A=10.77.0.1 LAN_B=10.77.0.2
TAP_MTU=$("$SQUTUN" -m 1500 --tap) || die "squtun -m 1500 --tap failed"
[[ $TAP_MTU == $((TUN_MTU - 14)) ]] || die "squtun -m 1500 --tap printed '$TAP_MTU', expected $((TUN_MTU - 14)) (14 bytes of Ethernet header)"

netns_pair
netns_new lan-a
NS_LA=$NETNS_NAME
netns_new lan-b
NS_LB=$NETNS_NAME

# bridge_side NS LAN_NS LAN_ADDR — tap0 and lan0 in br0 in NS; eth0 with LAN_ADDR in LAN_NS
bridge_side() {
  local ns=$1 lan=$2 addr=$3
  ip -n "$ns" tuntap add dev tap0 mode tap || die "ip tuntap add tap0 mode tap in $ns failed"
  ip -n "$ns" link add br0 type bridge || die "creating br0 in $ns failed"
  ip -n "$ns" link add lan0 type veth peer name eth0 netns "$lan" || die "creating lan0 <-> $lan/eth0 failed"
  for dev in tap0 lan0; do
    ip -n "$ns" link set "$dev" mtu "$TAP_MTU" master br0 up
  done
  ip -n "$ns" link set br0 up
  ip -n "$lan" link set eth0 mtu "$TAP_MTU" up
  ip -n "$lan" addr add "$addr/24" dev eth0
}
bridge_side "$NS_A" "$NS_LA" "$LAN_A"
bridge_side "$NS_B" "$NS_LB" "$LAN_B"
MAC_A=$(ip netns exec "$NS_LA" cat /sys/class/net/eth0/address)
MAC_B=$(ip netns exec "$NS_LB" cat /sys/class/net/eth0/address)
info "LAN host A $LAN_A ($MAC_A) in $NS_LA, LAN host B $LAN_B ($MAC_B) in $NS_LB; TAP MTU $TAP_MTU"
! ns_ping "$NS_LA" "$LAN_B" || die "the LAN hosts reach each other without the tunnel"

KEY=$E2E_TMP/site.key
make_key "$KEY"
start_daemon "$NS_A" -v --tap --pidfile "$E2E_TMP/squtun-a.pid" -l 7778 -p 198.18.0.2 -r 7777 -i tap0 -k "$KEY"
PID_A=$DAEMON_PID
start_daemon "$NS_B" -v --tap --pidfile "$E2E_TMP/squtun-b.pid" -l 7777 -p 198.18.0.1 -r 7778 -i tap0 -k "$KEY"
PID_B=$DAEMON_PID

step "LAN host A pings LAN host B across bridge and tunnel"
t0=$(now_ms)
wait_for 15 ns_ping "$NS_LA" "$LAN_B" || die "LAN host A cannot ping LAN host B across the TAP tunnel"
pass "ping across the bridged tunnel after $(since "$t0") s"
# neigh_mac NS ADDR — the MAC the neighbour table holds for ADDR
neigh_mac() { ip -n "$1" neigh show "$2" dev eth0 | awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1)}'; }
[[ $(neigh_mac "$NS_LA" "$LAN_B") == "$MAC_B" ]] ||
  die "LAN host A's ARP entry for $LAN_B is '$(ip -n "$NS_LA" neigh show "$LAN_B")', expected $MAC_B"
[[ $(neigh_mac "$NS_LB" "$LAN_A") == "$MAC_A" ]] ||
  die "LAN host B's ARP entry for $LAN_A is '$(ip -n "$NS_LB" neigh show "$LAN_A")', expected $MAC_A"
info "ARP across the tunnel: A has $LAN_B at $MAC_B, B has $LAN_A at $MAC_A"
# The bridges learnt each far MAC behind their tap0.
fdb_on_tap() { bridge -n "$1" fdb show dev tap0 | grep -qi "^$2 "; }
wait_for 5 fdb_on_tap "$NS_A" "$MAC_B" || die "br0 in $NS_A did not learn $MAC_B on tap0"
wait_for 5 fdb_on_tap "$NS_B" "$MAC_A" || die "br0 in $NS_B did not learn $MAC_A on tap0"
ping_report "$NS_LA" "$LAN_B" 5
ping_report "$NS_LB" "$LAN_A" 5
# Full-size frames: a ping that fills the MTU exactly, without fragmentation.
big=$((TAP_MTU - 28))
ip netns exec "$NS_LA" ping -n -q -c 3 -W 2 -M "do" -s "$big" "$LAN_B" >/dev/null ||
  die "a $TAP_MTU-byte packet (ping -s $big, DF) did not cross the TAP tunnel"
info "full-MTU frames ($TAP_MTU-byte packets) cross"
pass "ARP resolved across the tunnel; ping both ways"

step "TCP between the LAN hosts"
tap_rx0=$(link_stat "$NS_B" tap0 rx_bytes)
veth_rx0=$(link_stat "$NS_B" veth0 rx_bytes)
tcp_transfer "$NS_LA" "$NS_LB" "$LAN_B" 5001 16
tcp_transfer "$NS_LB" "$NS_LA" "$LAN_A" 5002 4
(($(link_stat "$NS_B" tap0 rx_bytes) - tap_rx0 >= 16 * 1024 * 1024)) || die "the transfer did not come out of B's tap0"
(($(link_stat "$NS_B" veth0 rx_bytes) - veth_rx0 >= 16 * 1024 * 1024)) || die "the transfer did not cross the underlay"
stop_daemon "$PID_A" TERM
stop_daemon "$PID_B" TERM
pass "16 MiB + 4 MiB sha256-checked between the bridged LAN hosts"
