#!/usr/bin/env bash
# test_interface_gone.sh — the world changes under a running daemon:
#   1. its TUN device is deleted (ip link del tun0): the daemon logs one line naming the
#      interface and exits non-zero, its pid file and control socket removed, with no CPU burnt
#      meanwhile; in the foreground (exit status seen) and detached (pid file only)
#   2. the device is set down, then up; 3. the underlay address is removed and added back;
#   4. the underlay link is set down, then up: each time the daemon keeps running without
#      spinning, and ping crosses the tunnel afterwards
#
# usage: bash test_interface_gone.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

# A spinning thread burns CLK_TCK ticks a second; an idle daemon a few at most.
CPU_LIMIT=$((CLK_TCK / 5))
EXIT_LIMIT=10

netns_pair
tunnel_ends
ARGS_B=(-v -l 7777 -p 198.18.0.1 -r 7778 -i tun0 -k "$KEY")
ARGS_A=(-v -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$KEY")

# delete_tun PID — delete A's tun0 under daemon PID, poll until PID has exited (EXIT_LIMIT s);
# CPU_USED: the ticks it used from just before the deletion to its last sample alive
delete_tun() {
  local pid=$1 first last now deadline
  first=$(cpu_ticks "$pid") || die "pid $pid is not running"
  last=$first
  ip -n "$NS_A" link del tun0
  deadline=$(($(now_ms) + EXIT_LIMIT * 1000))
  while proc_alive "$pid" && (($(now_ms) < deadline)); do
    now=$(cpu_ticks "$pid" 2>/dev/null) && last=$now
    sleep 0.1
  done
  CPU_USED=$((last - first))
  proc_gone "$pid" || die "squtun (pid $pid) still runs $EXIT_LIMIT s after its device was deleted, having used $CPU_USED CPU ticks (CLK_TCK $CLK_TCK)"
  ((CPU_USED <= CPU_LIMIT)) || die "squtun (pid $pid) used $CPU_USED CPU ticks before exiting (limit $CPU_LIMIT)"
}

# expect_removed PIDFILE — the pid file and the control socket beside it are gone
expect_removed() {
  [[ ! -e $1 ]] || die "pid file $1 is still there after the daemon exited"
  [[ ! -e ${1%.pid}.sock ]] || die "control socket ${1%.pid}.sock is still there after the daemon exited"
}

step "1a. tun0 deleted under a daemon in the foreground"
start_pair "${ARGS_B[@]}" --pidfile "$PF_B" -- "${ARGS_A[@]}" --pidfile "$PF_A"
[[ -e $PF_A && -S ${PF_A%.pid}.sock ]] || die "A has no pid file $PF_A or control socket beside it"
delete_tun "$PID_A"
reap "$PID_A" 1 || die "cannot reap squtun pid $PID_A"
[[ $WAIT_STATUS != 0 ]] || die "squtun exited with status 0 after its device was deleted"
line=$(grep -E 'interface tun0 .*gone' "$LOG_A") || die "no log line says interface tun0 is gone"
[[ $(wc -l <<<"$line") == 1 ]] || die "the device's loss is logged more than once:"$'\n'"$line"
expect_removed "$PF_A"
pass "exit status $WAIT_STATUS, $CPU_USED CPU ticks, logged: $line"
proc_alive "$PID_B" || die "B died when A's device was deleted"
stop_daemon "$PID_B"

step "1b. tun0 deleted under a detached daemon"
tun_up "$NS_A" tun0 10.99.0.1/30
start_b "${ARGS_B[@]}" --pidfile "$PF_B"
ip netns exec "$NS_A" timeout 30 "$SQUTUN" "${ARGS_A[@]}" --pidfile "$PF_A" </dev/null >>"$E2E_LOGS/launcher.log" 2>&1 ||
  die "the detached daemon did not start"
DPID=$(tr -d '[:space:]' <"$PF_A")
track_foreign "$DPID"
wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "no ping through the tunnel from the detached daemon"
delete_tun "$DPID"
untrack_foreign "$DPID"
expect_removed "$PF_A"
pass "detached daemon gone, $CPU_USED CPU ticks, pid file and socket removed"
stop_daemon "$PID_B"

# survives NAME BREAK MEND DROP NS ADDR — while BREAK's effect lasts, pings from NS to ADDR make
# A's data path fail (its counter drop_DROP grows); A must burn no CPU, and after MEND ping
# works again
survives() {
  local name=$1 break_cmd=$2 mend_cmd=$3 drop=$4 ns=$5 addr=$6 t0 ticks ticks0 drops0
  step "$name"
  drops0=$(show_counter "$NS_A" "$PF_A" "drop_$drop")
  ticks0=$(cpu_ticks "$PID_A")
  eval "$break_cmd"
  spawn helper "ping-${ns##*-}" "$ns" ping -n -i 0.05 -W 1 "$addr"
  counter_above() { (($(show_counter "$NS_A" "$PF_A" "drop_$drop") >= drops0 + 20)); }
  wait_for 10 counter_above || die "$name: A's drop_$drop did not grow by 20 within 10 s"
  stop_helper "$SPAWN_PID"
  ticks=$(($(cpu_ticks "$PID_A") - ticks0))
  ((ticks <= CPU_LIMIT)) || die "$name: A used $ticks CPU ticks while broken (limit $CPU_LIMIT)"
  eval "$mend_cmd"
  t0=$(now_ms)
  wait_for 20 ns_ping "$NS_A" 10.99.0.2 || die "$name: no ping through the tunnel 20 s after mending"
  proc_alive "$PID_A" || die "$name: A exited"
  pass "$name: $ticks CPU ticks while broken, ping again $(since "$t0") s after mending"
}

tun_up "$NS_A" tun0 10.99.0.1/30
start_pair "${ARGS_B[@]}" --pidfile "$PF_B" -- "${ARGS_A[@]}" --pidfile "$PF_A"
survives "2. tun0 set down, then up" "ip -n $NS_A link set tun0 down" "ip -n $NS_A link set tun0 up" \
  tun_write "$NS_B" 10.99.0.1
survives "3. underlay address removed, then added back" "ip -n $NS_A addr del 198.18.0.1/24 dev veth0" \
  "ip -n $NS_A addr add 198.18.0.1/24 dev veth0" udp_send "$NS_A" 10.99.0.2
survives "4. underlay link set down, then up" "ip -n $NS_A link set veth0 down" "ip -n $NS_A link set veth0 up" \
  udp_send "$NS_A" 10.99.0.2
stop_daemon "$PID_A"
stop_daemon "$PID_B"
