#!/usr/bin/env bash
# test_restart.sh — one daemon dies (SIGKILL, as in a crash, or SIGTERM) while traffic flows
# and is restarted with the same arguments: traffic must resume within 10 s of the restart,
# while the other daemon keeps running untouched (same PID, never restarted).
#   1. static pair (both ends with -p): restart B, then A
#   2. passive B (no -p) and active A (-p, -a 2): restart the passive end, then the active one
#
# usage: bash test_restart.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

RESUME_LIMIT=10
netns_pair
KEY=$E2E_TMP/site.key
make_key "$KEY"
tun_up "$NS_A" tun0 10.99.0.1/30
tun_up "$NS_B" tun0 10.99.0.2/30

declare -A ADDR=([$NS_A]=10.99.0.1 [$NS_B]=10.99.0.2)
RESULTS=()

# restart VICTIM_NS VICTIM_PID SIG OTHER_NS OTHER_PID ARGS... — kill the victim by PID with SIG,
# check the tunnel is down, start it again with ARGS, and time until ping passes both ways.
# Sets NEW_PID.
restart() {
  local vns=$1 vpid=$2 sig=$3 ons=$4 opid=$5 t0 secs
  shift 5
  proc_alive "$opid" || die "the surviving daemon (pid $opid) is not running before the restart"
  stop_daemon "$vpid" "$sig"
  ! ns_ping "$ons" "${ADDR[$vns]}" || die "${ADDR[$vns]} still answers with its daemon killed"
  start_daemon "$vns" "$@"
  NEW_PID=$DAEMON_PID
  t0=$(now_ms)
  wait_for "$RESUME_LIMIT" ns_ping "$ons" "${ADDR[$vns]}" ||
    die "ping ${ADDR[$ons]} -> ${ADDR[$vns]} did not resume within $RESUME_LIMIT s of restarting the daemon in $vns"
  secs=$(since "$t0")
  wait_for 5 ns_ping "$vns" "${ADDR[$ons]}" ||
    die "ping ${ADDR[$vns]} -> ${ADDR[$ons]} (from the restarted end) fails after the restart"
  proc_alive "$opid" || die "the other daemon (pid $opid) died while its peer restarted"
  [[ $(ip netns identify "$opid") == "$ons" ]] || die "pid $opid is no longer the daemon in $ons"
  ping_report "$ons" "${ADDR[$vns]}" 5
  RESULTS+=("$(printf '%-44s resumed after %s s' "$CASE" "$secs")")
  pass "$CASE: traffic resumed $secs s after the restart; peer pid $opid untouched"
}

# background traffic from NS towards the other end, for the whole case
traffic() {
  spawn helper "ping-${1##*-}" "$1" ping -n -i 0.2 -W 1 "$2"
}

STATIC_A=(-v -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$KEY" --pidfile "$(pidfile_for a)")
STATIC_B=(-v -l 7777 -p 198.18.0.1 -r 7778 -i tun0 -k "$KEY" --pidfile "$(pidfile_for b)")

step "1. static pair: both ends with -p"
start_daemon "$NS_A" "${STATIC_A[@]}"
PID_A=$DAEMON_PID
start_daemon "$NS_B" "${STATIC_B[@]}"
PID_B=$DAEMON_PID
wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "static pair: no ping through the tunnel within 10 s"
traffic "$NS_A" 10.99.0.2
PING1=$SPAWN_PID
traffic "$NS_B" 10.99.0.1
PING2=$SPAWN_PID

CASE="static pair, B killed (SIGKILL), restarted"
restart "$NS_B" "$PID_B" KILL "$NS_A" "$PID_A" "${STATIC_B[@]}"
PID_B=$NEW_PID
CASE="static pair, A stopped (SIGTERM), restarted"
restart "$NS_A" "$PID_A" TERM "$NS_B" "$PID_B" "${STATIC_A[@]}"
PID_A=$NEW_PID
CASE="static pair, A killed (SIGKILL) again"
restart "$NS_A" "$PID_A" KILL "$NS_B" "$PID_B" "${STATIC_A[@]}"
PID_A=$NEW_PID

stop_helper "$PING1" INT
stop_helper "$PING2" INT
stop_daemon "$PID_A" TERM
stop_daemon "$PID_B" TERM

step "2. passive B (no -p), active A (-p, -a 2)"
PASSIVE_B=(-v -l 7777 -i tun0 -k "$KEY" --pidfile "$(pidfile_for b)")
ACTIVE_A=(-v -l 7778 -p 198.18.0.2 -r 7777 -a 2 -i tun0 -k "$KEY" --pidfile "$(pidfile_for a)")
start_pair "${PASSIVE_B[@]}" -- "${ACTIVE_A[@]}"
traffic "$NS_A" 10.99.0.2
PING1=$SPAWN_PID

CASE="passive B killed (SIGKILL), restarted"
restart "$NS_B" "$PID_B" KILL "$NS_A" "$PID_A" "${PASSIVE_B[@]}"
PID_B=$NEW_PID
CASE="active A killed (SIGKILL), restarted"
restart "$NS_A" "$PID_A" KILL "$NS_B" "$PID_B" "${ACTIVE_A[@]}"
PID_A=$NEW_PID
CASE="passive B stopped (SIGTERM), restarted"
restart "$NS_B" "$PID_B" TERM "$NS_A" "$PID_A" "${PASSIVE_B[@]}"
PID_B=$NEW_PID

stop_helper "$PING1" INT
stop_daemon "$PID_A" TERM
stop_daemon "$PID_B" TERM

step "summary (limit $RESUME_LIMIT s)"
printf '    %s\n' "${RESULTS[@]}"
