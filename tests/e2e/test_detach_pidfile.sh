#!/usr/bin/env bash
# ctest: machine (pid files in /run/squtun)
# test_detach_pidfile.sh — squtun without -f: the launcher returns only once the tunnel is set
# up (exit 0), the daemon runs detached and its pid file holds its PID; SIGTERM and SIGINT end
# it and remove the pid file.
#   A: default pid file /var/run/squtun/squtun-sqa$$.pid, TUN device created by squtun itself
#   B: --pidfile in a temp dir, persistent TUN device made beforehand with ip tuntap
# Also: setup failure in detached mode (exit non-zero, message, nothing left running), a second
# instance on a busy interface, and -f (no pid file unless --pidfile).
#
# usage: bash test_detach_pidfile.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

netns_pair
KEY=$E2E_TMP/site.key
make_key "$KEY"
IF_A=sqa$$
IF_B=sqb$$
RUNDIR=/var/run/squtun
if [[ ! -d $RUNDIR ]]; then
  mkdir -m 0755 "$RUNDIR"
  atexit rmdir "$RUNDIR"
  info "created $RUNDIR (removed again at exit)"
fi
PIDF_A=$RUNDIR/squtun-$IF_A.pid
[[ ! -e $PIDF_A ]] || die "$PIDF_A already exists"
atexit rm -f "$PIDF_A"
mkdir -m 0755 "$E2E_TMP/run"
PIDF_B=$E2E_TMP/run/squtun-b.pid
tun_up "$NS_B" "$IF_B" 10.99.0.2/30

LAUNCH_LOG=$E2E_LOGS/launcher.log
DET_RC=0

# launch NS ARGS... — squtun ARGS (no -f) in NS; sets DET_RC and DET_SECS
launch() {
  local ns=$1 t0
  shift
  printf '### %s: squtun %s (in %s)\n' "$(_ts)" "$*" "$ns" >>"$LAUNCH_LOG"
  t0=$(now_ms)
  DET_RC=0
  ip netns exec "$ns" timeout 30 "$SQUTUN" "$@" </dev/null >>"$LAUNCH_LOG" 2>&1 || DET_RC=$?
  DET_SECS=$(since "$t0")
}

# stat_field PID N — field N (state=3, ppid=4, pgrp=5, session=6) of /proc/PID/stat
stat_field() {
  local s f
  s=$(cat "/proc/$1/stat") || return 1
  s=${s##*) }
  read -r -a f <<<"$s"
  echo "${f[$(($2 - 3))]}"
}

# check_daemon PIDFILE NS — pid file holds a live squtun, detached, in NS; prints the PID
check_daemon() {
  local pidf=$1 ns=$2 pid fd target
  [[ -s $pidf ]] || die "the launcher returned 0 but pid file $pidf is missing or empty"
  pid=$(tr -d '[:space:]' <"$pidf")
  [[ $pid =~ ^[0-9]+$ ]] || die "pid file $pidf holds '$pid', not a PID"
  track_foreign "$pid"
  proc_alive "$pid" || die "pid file $pidf names pid $pid, which is not running"
  [[ $(readlink "/proc/$pid/exe") == "$SQUTUN" ]] ||
    die "pid $pid from $pidf is $(readlink "/proc/$pid/exe"), not $SQUTUN"
  [[ $(ip netns identify "$pid") == "$ns" ]] || die "pid $pid is not in namespace $ns"
  [[ $(stat_field "$pid" 6) != "$(stat_field $$ 6)" ]] ||
    die "daemon pid $pid is still in the test's session: it did not detach (setsid)"
  for fd in 0 1 2; do
    target=$(readlink "/proc/$pid/fd/$fd" 2>/dev/null) || continue
    [[ $target != "$LAUNCH_LOG" ]] ||
      die "detached daemon pid $pid still holds the launcher's output (fd $fd -> $target)"
  done
  DPID=$pid
}

# end_daemon PID SIG PIDFILE — signal, poll until gone (not our child), pid file removed
end_daemon() {
  local pid=$1 sig=$2 pidf=$3 t0
  t0=$(now_ms)
  kill -s "$sig" "$pid"
  wait_for 10 proc_gone "$pid" || die "detached squtun pid $pid still runs 10 s after SIG$sig"
  untrack_foreign "$pid"
  [[ ! -e $pidf ]] || die "pid file $pidf still exists after pid $pid ended on SIG$sig"
  pass "SIG$sig ended detached pid $pid in $(since "$t0") s and removed $pidf"
}

round=0
for sigs in "TERM INT" "INT TERM"; do
  read -r SIG_A SIG_B <<<"$sigs"
  round=$((round + 1))
  step "round $round: both ends detached; A gets SIG$SIG_A, B gets SIG$SIG_B"
  launch "$NS_A" -v -l 7778 -p 198.18.0.2 -r 7777 -i "$IF_A" -k "$KEY"
  [[ $DET_RC -eq 0 ]] || die "detached start of A exited $DET_RC: $(tail -n 5 "$LAUNCH_LOG")"
  check_daemon "$PIDF_A" "$NS_A"
  PID_A=$DPID
  # returned only once set up: the device squtun created exists already, no polling
  link_exists "$NS_A" "$IF_A" || die "the launcher returned before creating $IF_A"
  pass "A returned 0 after $DET_SECS s; $PIDF_A holds live, detached squtun pid $PID_A; $IF_A exists"
  tun_config "$NS_A" "$IF_A" 10.99.0.1/30

  launch "$NS_B" -v -l 7777 -p 198.18.0.1 -r 7778 -i "$IF_B" -k "$KEY" --pidfile "$PIDF_B"
  [[ $DET_RC -eq 0 ]] || die "detached start of B exited $DET_RC: $(tail -n 5 "$LAUNCH_LOG")"
  check_daemon "$PIDF_B" "$NS_B"
  PID_B=$DPID
  pass "B returned 0 after $DET_SECS s; $PIDF_B holds live, detached squtun pid $PID_B"

  wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "no ping through the tunnel between the detached daemons"
  ping_report "$NS_A" 10.99.0.2 5
  ping_report "$NS_B" 10.99.0.1 5

  if [[ $round -eq 1 ]]; then
    step "a second instance on the busy interface $IF_B is refused and leaves the pid file alone"
    launch "$NS_B" -v -l 7779 -p 198.18.0.1 -r 7778 -i "$IF_B" -k "$KEY" --pidfile "$PIDF_B"
    [[ $DET_RC -ne 0 ]] || die "a second squtun on busy interface $IF_B started (exit 0)"
    [[ $(tr -d '[:space:]' <"$PIDF_B") == "$PID_B" ]] || die "the refused second instance changed $PIDF_B"
    proc_alive "$PID_B" || die "the refused second instance killed the first (pid $PID_B)"
    # Only the daemon and its own helpers (name lookup, reload), nothing the refused one left.
    for pid in $(ip netns pids "$NS_B"); do
      [[ $pid == "$PID_B" || $(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null) == "$PID_B" ]] ||
        die "processes in $NS_B: $(ip netns pids "$NS_B" | tr '\n' ' ')(expected only $PID_B and its helpers)"
    done
    wait_for 5 ns_ping "$NS_A" 10.99.0.2 || die "the tunnel broke after the refused second instance"
    pass "second instance exited $DET_RC: $(tail -n 1 "$LAUNCH_LOG")"
  fi

  step "round $round: signals"
  end_daemon "$PID_A" "$SIG_A" "$PIDF_A"
  wait_for 5 link_gone "$NS_A" "$IF_A" ||
    die "$IF_A, created by squtun, outlived the daemon"
  end_daemon "$PID_B" "$SIG_B" "$PIDF_B"
  link_exists "$NS_B" "$IF_B" || die "squtun deleted the persistent device $IF_B it did not create"
  pass "the device squtun created went with it; the persistent $IF_B stayed"
done

step "setup failure in detached mode: exit non-zero, a message, nothing left"
open_key=$E2E_TMP/open.key
cp "$KEY" "$open_key"
chmod 644 "$open_key"
launch "$NS_A" -v -l 7778 -p 198.18.0.2 -r 7777 -i "$IF_A" -k "$open_key"
[[ $DET_RC -ne 0 && $DET_RC -ne 124 ]] || die "detached start with a 0644 key file exited $DET_RC"
tail -n 3 "$LAUNCH_LOG" | grep -q 'chmod 600' || die "no 'chmod 600' in the launcher's message: $(tail -n 3 "$LAUNCH_LOG")"
[[ ! -e $PIDF_A ]] || die "failed start left $PIDF_A"
[[ -z $(ip netns pids "$NS_A") ]] || die "failed start left processes: $(ip netns pids "$NS_A" | tr '\n' ' ')"
pass "refused with exit $DET_RC in $DET_SECS s: $(tail -n 1 "$LAUNCH_LOG")"

step "-f: no pid file unless --pidfile is given"
PIDF_F=$E2E_TMP/run/squtun-f.pid
start_daemon "$NS_A" -v -l 7778 -p 198.18.0.2 -r 7777 -i "$IF_A" -k "$KEY"
PID_A=$DAEMON_PID
wait_for 10 link_exists "$NS_A" "$IF_A" || die "squtun -f did not create $IF_A"
tun_config "$NS_A" "$IF_A" 10.99.0.1/30
start_daemon "$NS_B" -v -l 7777 -p 198.18.0.1 -r 7778 -i "$IF_B" -k "$KEY" --pidfile "$PIDF_F"
PID_B=$DAEMON_PID
wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "no ping between the -f daemons"
[[ ! -e $PIDF_A ]] || die "squtun -f wrote the default pid file $PIDF_A"
[[ -s $PIDF_F && $(tr -d '[:space:]' <"$PIDF_F") == "$PID_B" ]] ||
  die "squtun -f --pidfile $PIDF_F: file holds '$(cat "$PIDF_F" 2>/dev/null)', expected $PID_B"
stop_daemon "$PID_A" TERM
stop_daemon "$PID_B" INT
[[ ! -e $PIDF_F ]] || die "$PIDF_F remains after SIGINT"
pass "-f wrote no default pid file; -f --pidfile wrote pid $PID_B and removed it on SIGINT"
