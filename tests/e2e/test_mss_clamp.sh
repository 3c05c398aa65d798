#!/usr/bin/env bash
# test_mss_clamp.sh — TCP between LANs behind each end, whose interfaces have MTU 1500 while
# the tunnel's is smaller, with ICMP "fragmentation needed" / "packet too big" filtered at both
# tunnel ends (so path MTU discovery cannot help):
#
#   LAN A (lan0 10.1.0.2, fd00:1::2) -- A (forwarding, tun0) ==squtun== B (tun0) -- LAN B (10.2.0.2, fd00:2::2)
#
# For IPv4 and IPv6, with offloads on and with --no-offload: the SYN that arrives in LAN B and
# the SYN-ACK that arrives in LAN A (tcpdump) announce an MSS of at most the tunnel MTU - 40
# (IPv4) or - 60 (IPv6), and a sha256-checked transfer each way completes; also with only one
# end clamping (it then clamps one segment on its way in, the other on its way out). With
# --no-clamp-mss at both ends the MSS arrives unchanged. Then the same with the LANs bridged
# through TAP devices (Ethernet frames) instead of routed.
#
# usage: bash test_mss_clamp.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
require_cmd tcpdump nft

netns_pair
tunnel_ends
netns_new la
NS_LA=$NETNS_NAME
netns_new lb
NS_LB=$NETNS_NAME
ipv6_on() { ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0; }
for ns in "$NS_A" "$NS_B" "$NS_LA" "$NS_LB"; do ipv6_on "$ns"; done
veth_link "$NS_LA" lan0 10.1.0.2/24 "$NS_A" lan0 10.1.0.1/24
veth_link "$NS_LB" lan0 10.2.0.2/24 "$NS_B" lan0 10.2.0.1/24
# world NS_END LAN_NS N OTHER_N — addresses, routes, forwarding and the ICMP filter at one end
world() {
  local ns=$1 lan=$2 n=$3 other=$4
  ip -n "$ns" addr add "fd00:99::$n/64" dev tun0 nodad
  ip -n "$ns" addr add "fd00:$n::1/64" dev lan0 nodad
  ip -n "$lan" addr add "fd00:$n::2/64" dev lan0 nodad
  ip -n "$lan" route add default via "10.$n.0.1"
  ip -n "$lan" -6 route add default via "fd00:$n::1"
  ip -n "$ns" route add "10.$other.0.0/24" dev tun0
  ip -n "$ns" -6 route add "fd00:$other::/64" dev tun0
  ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  ip netns exec "$ns" nft -f - <<EOF || die "cannot install the ICMP filter in $ns"
table inet sqmss {
  chain out {
    type filter hook output priority 0; policy accept;
    icmp type destination-unreachable icmp code frag-needed drop
    icmpv6 type packet-too-big drop
  }
}
EOF
}
world "$NS_A" "$NS_LA" 1 2
world "$NS_B" "$NS_LB" 2 1
[[ $(ip -n "$NS_LA" link show lan0) == *"mtu 1500"* ]] || die "LAN A's lan0 does not have MTU 1500"
info "tunnel MTU $TUN_MTU: MSS at most $((TUN_MTU - 40)) (IPv4), $((TUN_MTU - 60)) (IPv6); unclamped LAN MSS 1460 / 1440"

# syn_mss LOG FLAGS — the MSS of the first segment with tcpdump flags FLAGS ("S" or "S.") in LOG
syn_mss() { sed -n "s/.*Flags \[$2\].*[[ ,]mss \([0-9]*\).*/\1/p" "$1" | head -n 1; }

# handshake_mss ADDR PORT [IF] — a TCP connection LAN A -> ADDR:PORT in LAN B, its first four
# segments (room for a retransmitted SYN) captured at
# both LANs on IF (lan0); sets SYN_MSS (the SYN as LAN B got it) and SYNACK_MSS (the SYN-ACK
# as LAN A got it)
handshake_mss() {
  local addr=$1 port=$2 dev=${3:-lan0} cap_a cap_b pa pb lpid connect=TCP:$1:$2 listen=TCP-LISTEN:$2
  [[ $addr == *:* ]] && connect=TCP6:[$addr]:$port listen=TCP6-LISTEN:$port
  spawn helper "tcpdump-la-$port" "$NS_LA" tcpdump -i "$dev" -n -l -c 4 "tcp port $port"
  pa=$SPAWN_PID cap_a=$SPAWN_LOG
  spawn helper "tcpdump-lb-$port" "$NS_LB" tcpdump -i "$dev" -n -l -c 4 "tcp port $port"
  pb=$SPAWN_PID cap_b=$SPAWN_LOG
  wait_for 10 grep -q "listening on" "$cap_a" || die "tcpdump in LAN A did not start"
  wait_for 10 grep -q "listening on" "$cap_b" || die "tcpdump in LAN B did not start"
  spawn helper "socat-lb-$port" "$NS_LB" socat -u "$listen" -
  lpid=$SPAWN_PID
  wait_for 10 tcp_listening "$NS_LB" "$port" || die "no listener on port $port in LAN B"
  ip netns exec "$NS_LA" timeout 20 socat -u - "$connect,connect-timeout=10" </dev/null ||
    die "no TCP connection from LAN A to $addr:$port"
  reap "$pa" 10 || die "tcpdump in LAN A did not see the handshake"
  reap "$pb" 10 || die "tcpdump in LAN B did not see the handshake"
  reap "$lpid" 10 || stop_helper "$lpid"
  SYN_MSS=$(syn_mss "$cap_b" S) SYNACK_MSS=$(syn_mss "$cap_a" S.)
  [[ -n $SYN_MSS && -n $SYNACK_MSS ]] || die "no MSS option in the captured handshake:"$'\n'"$(cat "$cap_a" "$cap_b")"
}

# clamped_both LABEL MTU NET DEV — for IPv4 (10.NET.0.2) and IPv6 (fd00:NET::2) in LAN B: the
# MSS arrives clamped to the device MTU both ways, and sha256 transfers LAN to LAN both ways
PORT=5000
clamped_both() {
  local label=$1 mtu=$2 net=$3 dev=$4 fam addr limit
  for fam in 4 6; do
    addr=10.$net.0.2 limit=$((mtu - 40))
    [[ $fam == 6 ]] && addr=fd00:$net::2 limit=$((mtu - 60))
    PORT=$((PORT + 10))
    handshake_mss "$addr" "$PORT" "$dev"
    ((SYN_MSS <= limit && SYNACK_MSS <= limit)) ||
      die "$label, IPv$fam: MSS $SYN_MSS (SYN) / $SYNACK_MSS (SYN-ACK) arrived, above $limit"
    pass "$label, IPv$fam: SYN arrived with MSS $SYN_MSS, SYN-ACK with $SYNACK_MSS (limit $limit)"
    tcp_transfer "$NS_LA" "$NS_LB" "$addr" $((PORT + 1)) 16
    tcp_transfer "$NS_LB" "$NS_LA" "${addr/2/1}" $((PORT + 2)) 16
  done
}

# clamped_run LABEL A_OPTIONS B_OPTIONS — each end with its options (words), then clamped_both
clamped_run() {
  local -a a_opts b_opts
  read -r -a a_opts <<<"$2"
  read -r -a b_opts <<<"$3"
  step "$1"
  start_pair -v -l 7777 -p 198.18.0.1 -r 7778 -i tun0 -k "$KEY" --pidfile "$PF_B" "${b_opts[@]}" -- \
    -v -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$KEY" --pidfile "$PF_A" "${a_opts[@]}"
  clamped_both "$1" "$TUN_MTU" 2 lan0
  stop_daemon "$PID_A"
  stop_daemon "$PID_B"
}

clamped_run "offloads on (default)" "" ""
clamped_run "offloads off" --no-offload --no-offload
# One end alone clamps both segments: one as it reads it from its device, the other as it
# writes it to its device.
clamped_run "only A clamps" "" --no-clamp-mss
clamped_run "only B clamps, offloads off" "--no-clamp-mss --no-offload" --no-offload

step "--no-clamp-mss"
start_pair -v -l 7777 -p 198.18.0.1 -r 7778 -i tun0 -k "$KEY" --pidfile "$PF_B" --no-clamp-mss -- \
  -v -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$KEY" --pidfile "$PF_A" --no-clamp-mss
handshake_mss 10.2.0.2 6000
((SYN_MSS == 1460 && SYNACK_MSS == 1460)) || die "--no-clamp-mss: MSS $SYN_MSS / $SYNACK_MSS arrived, not LAN A's and B's 1460"
handshake_mss fd00:2::2 6001
((SYN_MSS == 1440 && SYNACK_MSS == 1440)) || die "--no-clamp-mss: IPv6 MSS $SYN_MSS / $SYNACK_MSS arrived, not 1440"
pass "--no-clamp-mss: the MSS crossed unchanged (1460 IPv4, 1440 IPv6)"
out=$(ip netns exec "$NS_LA" ping -n -c 1 -W 1 -M "do" -s 1472 10.2.0.2 2>&1) && die "a 1500-byte DF ping crossed the tunnel"
[[ $out != *"needed"* ]] || die "LAN A was told the tunnel's MTU: the ICMP filter does not hold:"$'\n'"$out"
ns_ping "$NS_LA" 10.2.0.2 || die "LAN A cannot ping LAN B"
pass "without clamping only the MSS could help: full-size DF packets vanish, nothing tells LAN A why"
stop_daemon "$PID_A"
stop_daemon "$PID_B"

step "TAP: the LANs bridged across the tunnel (LAN MTU 1500, tap0 MTU squtun -m 1500 --tap)"
TAP_MTU=$("$SQUTUN" -m 1500 --tap) || die "squtun -m 1500 --tap failed"
# tap_side NS LAN_NS N — tap0 and lan1 in br0 in NS; eth1 (MTU 1500) with 10.3.0.N, fd00:3::N
# in LAN_NS. The bridge drops frames too large for tap0 without a word: only the MSS helps.
tap_side() {
  local ns=$1 lan=$2 n=$3 dev
  ip -n "$ns" tuntap add dev tap0 mode tap || die "ip tuntap add tap0 mode tap in $ns failed"
  ip -n "$ns" link set tap0 mtu "$TAP_MTU"
  ip -n "$ns" link add br0 type bridge
  ip -n "$ns" link add lan1 type veth peer name eth1 netns "$lan"
  for dev in tap0 lan1; do ip -n "$ns" link set "$dev" master br0 up; done
  ip -n "$ns" link set br0 up
  ip -n "$lan" link set eth1 up
  ip -n "$lan" addr add "10.3.0.$n/24" dev eth1
  ip -n "$lan" addr add "fd00:3::$n/64" dev eth1 nodad
}
tap_side "$NS_A" "$NS_LA" 1
tap_side "$NS_B" "$NS_LB" 2
start_daemon "$NS_B" -v --tap -l 7777 -p 198.18.0.1 -r 7778 -i tap0 -k "$KEY" --pidfile "$PF_B"
PID_B=$DAEMON_PID
start_daemon "$NS_A" -v --tap -l 7778 -p 198.18.0.2 -r 7777 -i tap0 -k "$KEY" --pidfile "$PF_A"
PID_A=$DAEMON_PID
wait_for 15 ns_ping "$NS_LA" 10.3.0.2 || die "LAN A cannot ping 10.3.0.2 across the TAP tunnel"
clamped_both TAP "$TAP_MTU" 3 eth1
stop_daemon "$PID_A"
stop_daemon "$PID_B"
