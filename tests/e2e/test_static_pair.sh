#!/usr/bin/env bash
# ctest: serial (throughput figures want the CPU to themselves)
# test_static_pair.sh — the static pair of README.md, one end per namespace:
#   A: squtun -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k key      (10.99.0.1/30)
#   B: squtun -l 7777 -p 198.18.0.1 -r 7778 -i tun0 -k key      (10.99.0.2/30)
# ping, 32 MiB each way checked by sha256, iperf3 for 10 s, SIGUSR1 counters, clean SIGTERM;
# and proof (without tcpdump) that the traffic went through the TUN devices and the veth.
#
# usage: bash test_static_pair.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
require_cmd iperf3

netns_pair
KEY=$E2E_TMP/site.key
make_key "$KEY"
tun_up "$NS_A" tun0 10.99.0.1/30
tun_up "$NS_B" tun0 10.99.0.2/30

step "without daemons the inner addresses route via tun0 and do not answer"
[[ $(route_dev "$NS_A" 10.99.0.2) == tun0 ]] || die "10.99.0.2 does not route via tun0 in $NS_A: $(ip -n "$NS_A" route get 10.99.0.2)"
[[ $(route_dev "$NS_B" 10.99.0.1) == tun0 ]] || die "10.99.0.1 does not route via tun0 in $NS_B"
! ns_ping "$NS_A" 10.99.0.2 || die "10.99.0.2 answers before any squtun runs: the test would prove nothing"
pass "10.99.0.2 is reachable only via tun0 and silent without squtun"

step "start the static pair"
start_daemon "$NS_A" -v -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$KEY" --pidfile "$(pidfile_for a)"
PID_A=$DAEMON_PID
start_daemon "$NS_B" -v -l 7777 -p 198.18.0.1 -r 7778 -i tun0 -k "$KEY" --pidfile "$(pidfile_for b)"
PID_B=$DAEMON_PID LOG_B=$DAEMON_LOG
t0=$(now_ms)
wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "no ping reply from 10.99.0.2 through the tunnel within 10 s"
pass "first ping through the tunnel $(since "$t0") s after both daemons started"
udp_listening "$NS_B" 7777 || die "nothing listens on UDP 7777 in $NS_B"
udp_listening "$NS_A" 7778 || die "nothing listens on UDP 7778 in $NS_A"
ping_report "$NS_A" 10.99.0.2 10
ping_report "$NS_B" 10.99.0.1 10
pass "ping both ways"

step "32 MiB each way over TCP, sha256-checked"
vethB_rx0=$(link_stat "$NS_B" veth0 rx_bytes)
vethA_rx0=$(link_stat "$NS_A" veth0 rx_bytes)
tunA_tx0=$(link_stat "$NS_A" tun0 tx_bytes)
tunB_rx0=$(link_stat "$NS_B" tun0 rx_bytes)
tcp_transfer "$NS_A" "$NS_B" 10.99.0.2 5001 32
tcp_transfer "$NS_B" "$NS_A" 10.99.0.1 5002 32
vethB_rx=$(($(link_stat "$NS_B" veth0 rx_bytes) - vethB_rx0))
vethA_rx=$(($(link_stat "$NS_A" veth0 rx_bytes) - vethA_rx0))
tunA_tx=$(($(link_stat "$NS_A" tun0 tx_bytes) - tunA_tx0))
tunB_rx=$(($(link_stat "$NS_B" tun0 rx_bytes) - tunB_rx0))
MIB32=$((32 * 1024 * 1024))
info "bytes during the transfers: A tun0 tx $tunA_tx, B tun0 rx $tunB_rx, B veth0 rx $vethB_rx, A veth0 rx $vethA_rx"
((tunA_tx >= MIB32)) || die "A's tun0 sent only $tunA_tx bytes for a 32 MiB transfer: the data did not enter the tunnel"
((tunB_rx >= MIB32)) || die "B's tun0 delivered only $tunB_rx bytes: the data did not come out of the tunnel"
((vethB_rx >= MIB32 && vethA_rx >= MIB32)) || die "the veth carried less than 32 MiB each way ($vethB_rx / $vethA_rx): the tunnel did not use the underlay"
pass "both transfers entered tun0, crossed veth0 (as UDP between the daemons) and left the other tun0"

step "iperf3 through the tunnel"
iperf_run "$NS_A" "$NS_B" 10.99.0.2 10
A_TO_B=$IPERF_MBPS
iperf_run "$NS_A" "$NS_B" 10.99.0.2 5 -R
B_TO_A=$IPERF_MBPS
pass "iperf3 10 s A->B: $A_TO_B Mbit/s; 5 s B->A (-R): $B_TO_A Mbit/s"

step "SIGUSR1 logs counters"
counters=$(usr1_counters "$PID_B" "$LOG_B") || die "SIGUSR1 to pid $PID_B added nothing to its log ($LOG_B)"
head -n 30 <<<"$counters" | sed 's/^/    /'
grep -qE 'rx [0-9]+ packets|rx=|rx_' <<<"$counters" || die "SIGUSR1 logged no rx counter: $counters"
proc_alive "$PID_B" || die "squtun died on SIGUSR1"
pass "SIGUSR1 logged counters and the daemon lives on"

step "SIGTERM ends both cleanly; the tunnel is then gone"
proc_alive "$PID_A" || die "daemon A (pid $PID_A) died during the test"
stop_daemon "$PID_A" TERM
stop_daemon "$PID_B" TERM
! ns_ping "$NS_A" 10.99.0.2 || die "10.99.0.2 still answers with both daemons stopped"
pass "both daemons exited cleanly on SIGTERM; 10.99.0.2 no longer answers"
