#!/usr/bin/env bash
# test_logging.sh — what squtun logs, and where:
#   1. the default level says nothing on a healthy start, nor during a 1000-ping flood
#   2. -v logs the tunnel's life ("tunnel up", the handshake) to stderr in the foreground;
#      -v and -vv log nothing per packet (a 1000-ping flood adds no line); with stderr on the
#      journal (JOURNAL_STREAM) each line carries its syslog priority
#   3. -q: nothing at all, yet SIGUSR1 still logs the counters line
#   4. a warning that repeats per packet is rate-limited: tun0 down at one end, hundreds of
#      packets arrive, at most 5 "cannot write" lines, then one "suppressed K similar messages" line
#      (at exit) whose K accounts for every other failed write (the tun_write counter)
#   5. detached, squtun logs to syslog with the daemon facility and the ident squtun[PID]:
#      a private /dev/log (a socat listener, in a mount namespace of the test's own, so the
#      host's /dev is untouched) receives "tunnel up" and the handshake at LOG_INFO, and the
#      SIGUSR1 counters at LOG_NOTICE (PRI = 3 * 8 + severity); at the default level it
#      receives nothing; a foreground daemon that could reach that /dev/log still uses stderr
#
# usage: bash test_logging.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
require_cmd unshare nsenter mount findmnt

netns_pair
KEY=$E2E_TMP/site.key
make_key "$KEY"
tun_up "$NS_A" tun0 10.99.0.1/30
tun_up "$NS_B" tun0 10.99.0.2/30
ARGS_A=(-l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$KEY")
ARGS_B=(-l 7777 -p 198.18.0.1 -r 7778 -i tun0 -k "$KEY")

# log_lines FILE — what the daemon wrote (lib's "### ..." command headers left out)
log_lines() { grep -v '^### ' "$1" || true; }
count_lines() { log_lines "$1" | grep -c . || true; }

# flood NS ADDR — 1000 echo requests as fast as the replies come; prints "sent received"
flood() {
  local out
  out=$(ip netns exec "$1" timeout 60 ping -n -q -f -c 1000 -w 30 "$2" 2>&1) || true
  awk '/packets transmitted/ { print $1, $4 }' <<<"$out"
}

# ---------------------------------------------------------------------------------------------
step "1. default level: silent when healthy, silent under a flood"
start_daemon "$NS_A" "${ARGS_A[@]}" --pidfile "$(pidfile_for a)"
PID_A=$DAEMON_PID
LOG_A=$DAEMON_LOG
start_daemon "$NS_B" "${ARGS_B[@]}" --pidfile "$(pidfile_for b)"
PID_B=$DAEMON_PID
LOG_B=$DAEMON_LOG
wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "no tunnel within 10 s"
read -r sent got < <(flood "$NS_A" 10.99.0.2)
[[ ${got:-0} -ge 990 ]] || die "flood ping: only ${got:-0} of ${sent:-?} replies"
for f in "$LOG_A" "$LOG_B"; do
  [[ $(count_lines "$f") -eq 0 ]] || die "the default level logged on a healthy run:"$'\n'"$(log_lines "$f" | head -n 5)"
done
stop_daemon "$PID_A"
stop_daemon "$PID_B"
for f in "$LOG_A" "$LOG_B"; do
  [[ $(count_lines "$f") -eq 0 ]] || die "the default level logged at SIGTERM:"$'\n'"$(log_lines "$f" | head -n 5)"
done
pass "no line from either daemon: start, handshake, $got/$sent flood replies, SIGTERM"

# ---------------------------------------------------------------------------------------------
step "2. -v and -vv on stderr; no line per packet; priorities for the journal"
# A's stderr plays the journal: JOURNAL_STREAM names its log file (device:inode), as systemd
# does for a unit's stderr.
LOG_J=$E2E_LOGS/squtun-journal-a.log
: >"$LOG_J"
spawn daemon squtun-journal-a "$NS_A" env JOURNAL_STREAM="$(stat -c '%d:%i' "$LOG_J")" "$SQUTUN" -f -v "${ARGS_A[@]}" \
  --pidfile "$(pidfile_for journal-a)"
PID_A=$SPAWN_PID
start_daemon "$NS_B" -vv "${ARGS_B[@]}" --pidfile "$(pidfile_for b)"
PID_B=$DAEMON_PID
LOG_B=$DAEMON_LOG
wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "no tunnel within 10 s"
has_line() { log_lines "$1" | grep -Eq "$2"; }
wait_for 5 has_line "$LOG_B" 'handshake with .* completed' || die "-vv: no handshake line on B's stderr:"$'\n'"$(log_lines "$LOG_B")"
wait_for 5 has_line "$LOG_J" 'handshake with .* completed' || die "-v: no handshake line on A's stderr:"$'\n'"$(log_lines "$LOG_J")"
grep -q '^squtun: info: tunnel up on tun0' "$LOG_B" || die "-vv: no 'squtun: info: tunnel up on tun0' line:"$'\n'"$(log_lines "$LOG_B")"
grep -q '^<6>info: tunnel up on tun0' "$LOG_J" || die "journal stderr: no '<6>info: tunnel up on tun0' line:"$'\n'"$(log_lines "$LOG_J")"
bad=$(log_lines "$LOG_J" | grep -v '^<[0-7]>' || true)
[[ -z $bad ]] || die "journal stderr: lines without a <priority> prefix:"$'\n'"$bad"
info "A (-v, journal): $(log_lines "$LOG_J" | tr '\n' '|')"
info "B (-vv): $(log_lines "$LOG_B" | head -n 6 | tr '\n' '|')"

n_a=$(count_lines "$LOG_J")
n_b=$(count_lines "$LOG_B")
read -r sent got < <(flood "$NS_A" 10.99.0.2)
[[ ${got:-0} -ge 990 ]] || die "flood ping: only ${got:-0} of ${sent:-?} replies"
read -r sent2 got2 < <(flood "$NS_B" 10.99.0.1)
[[ ${got2:-0} -ge 990 ]] || die "flood ping B -> A: only ${got2:-0} of ${sent2:-?} replies"
d_a=$(($(count_lines "$LOG_J") - n_a))
d_b=$(($(count_lines "$LOG_B") - n_b))
info "during $((sent + sent2)) flood pings each way: A (-v) logged $d_a lines, B (-vv) $d_b"
[[ $d_a -le 2 && $d_b -le 2 ]] ||
  die "lines logged during the flood (A -v: $d_a, B -vv: $d_b), expected none per packet:"$'\n'"$(log_lines "$LOG_B" | tail -n 5)"
stop_daemon "$PID_A"
stop_daemon "$PID_B"
grep -q 'stopping on SIGTERM' "$LOG_B" || die "-vv: no 'stopping on SIGTERM' line"
pass "-v/-vv: tunnel up and handshake logged; $d_a and $d_b lines during 2000 flood pings; journal priorities"

# ---------------------------------------------------------------------------------------------
step "3. -q: silent, but SIGUSR1 still reports"
start_daemon "$NS_A" -q "${ARGS_A[@]}" --pidfile "$(pidfile_for a)"
PID_A=$DAEMON_PID
LOG_A=$DAEMON_LOG
start_daemon "$NS_B" "${ARGS_B[@]}" --pidfile "$(pidfile_for b)"
PID_B=$DAEMON_PID
LOG_B=$DAEMON_LOG
wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "no tunnel within 10 s"
[[ $(count_lines "$LOG_A") -eq 0 ]] || die "-q logged:"$'\n'"$(log_lines "$LOG_A")"
report=$(usr1_counters "$PID_A" "$LOG_A") || die "-q: SIGUSR1 logged nothing within 5 s"
grep -q '^squtun: report: counters: ' <<<"$report" || die "-q: SIGUSR1 logged no counters line: $report"
info "SIGUSR1 with -q: $(head -n 1 <<<"$report")"
stop_daemon "$PID_A"
[[ $(count_lines "$LOG_A") -eq 1 ]] || die "-q: more than the counters line:"$'\n'"$(log_lines "$LOG_A")"
pass "-q: one line in all, the counters asked for by SIGUSR1"

# ---------------------------------------------------------------------------------------------
step "4. repeated warnings are rate-limited (tun0 down on B, hundreds of packets to it)"
start_daemon "$NS_A" "${ARGS_A[@]}" --pidfile "$(pidfile_for a)"
PID_A=$DAEMON_PID
wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "no tunnel within 10 s"
ip -n "$NS_B" link set dev tun0 down
t0=$(now_ms)
# (no replies come back: -w ends ping once the 1000 are out, instead of its linger time)
ip netns exec "$NS_A" timeout 30 ping -n -q -i 0.002 -c 1000 -w 4 10.99.0.2 >/dev/null 2>&1 || true
info "pinged for $(since "$t0") s"
# tun_write_drops — B's tun_write counter (SIGUSR1)
tun_write_drops() { usr1_counters "$PID_B" "$LOG_B" | sed -n 's/.*tun_write=\([0-9]*\).*/\1/p' | tail -n 1; }
# settled — the counter reached 1000, or is at least 200 and the same as at the last poll
# (ping sends about 100 a second when no reply comes back)
prev=-1
drops=0
settled() {
  drops=$(tun_write_drops)
  drops=${drops:-0}
  local was=$prev
  prev=$drops
  ((drops >= 1000 || (drops >= 200 && drops == was)))
}
deadline=$(($(now_ms) + 10000))
until settled; do
  (($(now_ms) < deadline)) || die "B counted $drops tun_write drops, expected 200 to 1000 (did the packets arrive?)"
  sleep 0.2
done
warned=$(grep -c 'cannot write' "$LOG_B" || true)
info "B: $drops failed TUN writes, $warned 'cannot write' lines: $(grep -m 1 'cannot write' "$LOG_B" || true)"
[[ $warned -ge 1 ]] || die "no warning at all for $drops failed writes to a down tun0"
[[ $warned -le 5 ]] || die "$warned 'cannot write' lines for $drops failed writes: not rate-limited (at most 5 a minute)"
stop_daemon "$PID_B"
stop_daemon "$PID_A"
summary=$(grep 'suppressed [0-9]* similar messages' "$LOG_B" || true)
[[ $(grep -c . <<<"$summary") -eq 1 ]] || die "expected one 'suppressed K similar messages' line at exit, got:"$'\n'"$summary"
k=$(sed -n 's/.*suppressed \([0-9]*\) similar.*/\1/p' <<<"$summary")
[[ $k -eq $((drops - warned)) ]] || die "the summary counts $k suppressed, but $drops writes failed and $warned were logged"
pass "$warned lines + '${summary#squtun: }' for $drops failed writes"
ip -n "$NS_B" link set dev tun0 up

# ---------------------------------------------------------------------------------------------
step "5. detached: syslog, daemon facility, ident squtun"
# A mount namespace where /dev is a tmpfs holding the host's /dev entries (bind mounts) and a
# /dev/log of our own, served by socat.  The namespace lives as long as socat or a daemon in it.
SYSLOG_OUT=$E2E_TMP/syslog.out
SYSLOG_TMP=$E2E_TMP/syslog-ns
mkdir -m 0700 "$SYSLOG_TMP"
: >"$SYSLOG_OUT"
# shellcheck disable=SC2016  # expanded by the namespace's shell
SETUP_SCRIPT='
  set -eu
  host=$T/hostdev
  mkdir "$host"
  mount --rbind /dev "$host"
  mount -t tmpfs -o mode=0755,size=1m squtun-test-dev /dev
  for e in "$host"/* "$host"/.[!.]*; do
    [ -e "$e" ] || [ -L "$e" ] || continue
    name=${e##*/}
    [ "$name" = log ] && continue
    if [ -L "$e" ]; then cp -P "$e" "/dev/$name"
    elif [ -d "$e" ]; then mkdir "/dev/$name"; mount --rbind "$e" "/dev/$name"
    else : >"/dev/$name"; mount --bind "$e" "/dev/$name"
    fi
  done
  umount -l "$host"
  socat -u UNIX-RECV:/dev/log,mode=0666 OPEN:"$OUT",creat,append </dev/null >"$T/socat.log" 2>&1 &
  echo $! >"$T/socat.pid"
  i=0
  while [ ! -S /dev/log ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
  [ -S /dev/log ] || { echo "socat did not create /dev/log" >&2; exit 1; }
  exec "$@"'
# in_syslog_ns CMD... — run CMD in that namespace (nsenter into socat's mount namespace)
in_syslog_ns() { nsenter --mount="/proc/$SOCAT_PID/ns/mnt" -- "$@"; }

rc=0
T=$SYSLOG_TMP OUT=$SYSLOG_OUT unshare --mount --propagation private sh -c "$SETUP_SCRIPT" setup true \
  >"$E2E_LOGS/syslog-setup.log" 2>&1 || rc=$?
SOCAT_PID=$(cat "$SYSLOG_TMP/socat.pid" 2>/dev/null || true)
[[ -n $SOCAT_PID ]] && track_foreign "$SOCAT_PID"
[[ $rc -eq 0 ]] || die "setting up the private /dev/log failed: $(cat "$E2E_LOGS/syslog-setup.log")"
proc_alive "$SOCAT_PID" || die "the socat listener on the private /dev/log is not running"
in_syslog_ns test -S /dev/log || die "no /dev/log socket in the private namespace"
[[ ! -S /dev/log ]] || [[ $(stat -L -c %i /dev/log) != $(in_syslog_ns stat -L -c %i /dev/log) ]] ||
  die "the private /dev/log is the host's"
info "private /dev/log served by socat pid $SOCAT_PID (mount namespace of its own)"

# syslog_lines — the datagrams received so far, one a line (they arrive without separators)
syslog_lines() { sed -E 's/<[0-9]{1,3}>/\n&/g' "$SYSLOG_OUT" | grep . || true; }
syslog_has() { syslog_lines | grep -Eq "$1"; }

# launch_detached ARGS... — squtun ARGS (no -f) in NS_A, inside the namespace; DET_PID
launch_detached() {
  local pidf=$E2E_TMP/detached.pid rc=0
  rm -f "$pidf"
  in_syslog_ns ip netns exec "$NS_A" timeout 30 "$SQUTUN" --pidfile "$pidf" "$@" "${ARGS_A[@]}" \
    </dev/null >>"$E2E_LOGS/launcher.log" 2>&1 || rc=$?
  [[ $rc -eq 0 ]] || die "detached squtun $* exited $rc: $(tail -n 3 "$E2E_LOGS/launcher.log")"
  DET_PID=$(tr -d '[:space:]' <"$pidf")
  if ! [[ $DET_PID =~ ^[0-9]+$ ]] || ! proc_alive "$DET_PID"; then
    die "no running daemon behind pid file $pidf"
  fi
  track_foreign "$DET_PID"
}

start_daemon "$NS_B" "${ARGS_B[@]}" --pidfile "$(pidfile_for b)"
PID_B=$DAEMON_PID
launch_detached -v
wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "no tunnel with the detached daemon within 10 s"
wait_for 5 syslog_has "squtun\[$DET_PID\]: handshake with .* completed" ||
  die "no handshake line from squtun[$DET_PID] in syslog:"$'\n'"$(syslog_lines)"
size0=$(stat -c %s "$SYSLOG_OUT")
kill -s USR1 "$DET_PID"
wait_for 5 syslog_has "squtun\[$DET_PID\]: counters: " || die "SIGUSR1: no counters line in syslog:"$'\n'"$(syslog_lines)"
info "syslog received:"
syslog_lines | sed 's/^/    /'
# PRI = facility * 8 + severity; daemon is facility 3: 24..31; info 30, notice 29
syslog_has "^<30>.* squtun\[$DET_PID\]: tunnel up on tun0" || die "no '<30>... squtun[$DET_PID]: tunnel up on tun0' line"
syslog_has "^<30>.* squtun\[$DET_PID\]: handshake with .* completed" || die "the handshake line is not at <30> (daemon.info)"
syslog_has "^<29>.* squtun\[$DET_PID\]: counters: " || die "the counters line is not at <29> (daemon.notice)"
others=$(syslog_lines | grep -Ev "^<(2[4-9]|3[01])>[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} squtun\[$DET_PID\]: " || true)
[[ -z $others ]] || die "syslog lines without the daemon facility or the ident squtun[$DET_PID]:"$'\n'"$others"
n=$(syslog_lines | grep -c .)
read -r sent got < <(flood "$NS_A" 10.99.0.2)
[[ ${got:-0} -ge 990 ]] || die "flood through the detached daemon: only ${got:-0} of ${sent:-?} replies"
[[ $(syslog_lines | grep -c .) -le $((n + 2)) ]] || die "syslog lines during the flood:"$'\n'"$(syslog_lines | tail -n 5)"
[[ $(count_lines "$DAEMON_LOG") -eq 0 ]] || die "B (foreground, default level) logged: $(log_lines "$DAEMON_LOG")"
kill_foreign "$DET_PID"
wait_for 5 syslog_has "^<30>.* squtun\[$DET_PID\]: stopping on SIGTERM" || die "no 'stopping on SIGTERM' in syslog"
pass "detached -v: daemon.info / daemon.notice lines from squtun[$DET_PID], nothing per packet"

size0=$(stat -c %s "$SYSLOG_OUT")
launch_detached
wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "no tunnel with the detached default-level daemon within 10 s"
ping_report "$NS_A" 10.99.0.2 5
kill_foreign "$DET_PID"
[[ $(stat -c %s "$SYSLOG_OUT") -eq $size0 ]] ||
  die "the default level sent to syslog:"$'\n'"$(tail -c +"$((size0 + 1))" "$SYSLOG_OUT")"
pass "detached, default level: nothing in syslog (start, handshake, ping, SIGTERM)"

# A foreground daemon where /dev/log exists still logs to stderr only.
DAEMON_PREFIX=(nsenter --mount="/proc/$SOCAT_PID/ns/mnt" --)
start_daemon "$NS_A" -v "${ARGS_A[@]}" --pidfile "$(pidfile_for a)"
PID_A=$DAEMON_PID
DAEMON_PREFIX=()
wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "no tunnel within 10 s"
wait_for 5 has_line "$DAEMON_LOG" 'tunnel up on tun0' || die "foreground -v: no 'tunnel up' on stderr"
stop_daemon "$PID_A"
stop_daemon "$PID_B"
[[ $(stat -c %s "$SYSLOG_OUT") -eq $size0 ]] ||
  die "a foreground daemon logged to syslog:"$'\n'"$(tail -c +"$((size0 + 1))" "$SYSLOG_OUT")"
pass "foreground -v with /dev/log at hand: stderr only"
