#!/usr/bin/env bash
# ctest: long (four restarts under a paced stream)
# test_fault_restart.sh — either end restarted while traffic flows, the other
# end untouched.  (test_restart.sh restarts each end with pings running and polls until one
# passes; this test keeps a TCP stream in flight across the restart and times the outage from
# a continuous ping.)
#
# For each case: a 12 MiB TCP stream A -> B through the tunnel, sent at 1 MiB/s so it is in
# flight throughout, and a ping every 100 ms from A to B (ping -D, timestamps); one daemon is
# killed with SIGKILL (a crash) and started again with the same arguments.  Checked: the first
# ping reply comes within 10 s of the restart (measured from the continuous ping, printed with
# the longest gap in replies), the TCP stream completes and its sha256 matches (TCP rides out
# the outage), the other daemon is the same process throughout.
#   1. static pair (both -p): B restarted, then A restarted
#   2. passive B (no -p), active A (-p, -a 2): B restarted (it forgets A's address and learns it
#      again from A's next handshake, which A starts when its data goes unanswered for 5 s),
#      then A restarted
#
# usage: bash test_fault_restart.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/e2e/attack_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/attack_lib.sh"
e2e_init "$@"
attack_init

RESUME_LIMIT=10
STREAM_MIB=12
RATE=$((1024 * 1024))
netns_pair
tunnel_ends
declare -A NS_OF=([A]=$NS_A [B]=$NS_B) PF_OF=([A]=$PF_A [B]=$PF_B)
declare -A PID_OF
PORT=5100

start_end() { # start_end A|B ARGS...
  local who=$1
  shift
  start_daemon "${NS_OF[$who]}" "$@" --pidfile "${PF_OF[$who]}"
  PID_OF[$who]=$DAEMON_PID
}

# restart_case LABEL VICTIM(A|B) ARGS... — restart VICTIM with ARGS while the stream and the
# ping run
restart_case() {
  local label=$1 victim=$2 other t_kill t_start resume gap src dst h1 h2 spid rpid ppid plog out
  shift 2
  [[ $victim == A ]] && other=B || other=A
  local other_pid=${PID_OF[$other]}
  PORT=$((PORT + 1))
  src=$E2E_TMP/stream-$PORT.src
  dst=$E2E_TMP/stream-$PORT.dst
  head -c "${STREAM_MIB}M" /dev/urandom >"$src"
  step "$label"
  spawn helper "recv-$PORT" "$NS_B" socat -u "TCP-LISTEN:$PORT,bind=10.99.0.2,reuseaddr" "CREATE:$dst"
  rpid=$SPAWN_PID
  wait_for 10 tcp_listening "$NS_B" "$PORT" || die "$label: the receiver does not listen"
  spawn helper "stream-$PORT" "$NS_A" "$PYTHON" "$ATTACK_PY" stream "$src" "10.99.0.2:$PORT" --rate "$RATE"
  spid=$SPAWN_PID
  spawn helper "ping-$PORT" "$NS_A" ping -D -n -i 0.1 -W 1 10.99.0.2
  ppid=$SPAWN_PID plog=$SPAWN_LOG
  # let the stream get going (a quarter of it), then crash the victim
  streamed() { [[ -f $dst ]] && (($(stat -c %s "$dst") >= STREAM_MIB * 1024 * 1024 / 4)); }
  wait_for 20 streamed || die "$label: the stream does not flow before the restart"
  t_kill=$(now_ms)
  stop_daemon "${PID_OF[$victim]}" KILL
  start_end "$victim" "$@"
  t_start=$(now_ms)
  replied() { [[ -n $(ping_first_reply_after "$plog" "$t_start") ]]; }
  wait_for "$RESUME_LIMIT" replied || die "$label: no ping reply within $RESUME_LIMIT s of the restart"
  resume=$(ping_first_reply_after "$plog" "$t_start")
  reap "$spid" 120 || die "$label: the stream did not finish within 120 s"
  [[ $WAIT_STATUS == 0 ]] || die "$label: the stream failed (status $WAIT_STATUS): $(tail -n 3 "$E2E_LOGS/stream-$PORT.log")"
  reap "$rpid" 30 || die "$label: the receiver did not finish"
  stop_helper "$ppid" INT
  gap=$(ping_gap "$plog" "$t_kill" "$(now_ms)")
  h1=$(sha256sum <"$src" | cut -d' ' -f1)
  h2=$(sha256sum <"$dst" | cut -d' ' -f1)
  [[ $h1 == "$h2" ]] || die "$label: the stream arrived corrupted or short ($(stat -c %s "$dst") bytes; sha256 $h2, sent $h1)"
  out=$(tail -n 1 "$E2E_LOGS/stream-$PORT.log")
  { proc_alive "$other_pid" && [[ $(ip netns identify "$other_pid") == "${NS_OF[$other]}" ]]; } ||
    die "$label: the other daemon (pid $other_pid) did not survive"
  [[ ${PID_OF[$other]} == "$other_pid" ]] || die "$label: the other end was restarted"
  info "$label: first reply ${resume} s after the restart; longest gap in replies $gap s; stream $out, sha256 ok"
  RESULTS+=("$(printf '%-36s resumed %6s s after the restart (longest ping gap %6s s); %d MiB stream intact' "$label" "$resume" "$gap" "$STREAM_MIB")")
  pass "$label: resumed after $resume s; the TCP stream in flight survived (sha256 ok); $other untouched"
  rm -f "$src" "$dst"
}

STATIC_A=(-v -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$KEY")
STATIC_B=(-v -l 7777 -p 198.18.0.1 -r 7778 -i tun0 -k "$KEY")
step "static pair"
start_pair "${STATIC_B[@]}" --pidfile "$PF_B" -- "${STATIC_A[@]}" --pidfile "$PF_A"
PID_OF=([A]=$PID_A [B]=$PID_B)
restart_case "static pair, B crashed and restarted" B "${STATIC_B[@]}"
restart_case "static pair, A crashed and restarted" A "${STATIC_A[@]}"
tcp_transfer "$NS_B" "$NS_A" 10.99.0.1 5001 4
stop_daemon "${PID_OF[A]}" TERM
stop_daemon "${PID_OF[B]}" TERM

PASSIVE_B=(-v -l 7777 -i tun0 -k "$KEY")
ACTIVE_A=(-v -l 7778 -p 198.18.0.2 -r 7777 -a 2 -i tun0 -k "$KEY")
step "passive B, active A (-a 2)"
start_pair "${PASSIVE_B[@]}" --pidfile "$PF_B" -- "${ACTIVE_A[@]}" --pidfile "$PF_A"
PID_OF=([A]=$PID_A [B]=$PID_B)
restart_case "passive pair, passive B crashed, restarted" B "${PASSIVE_B[@]}"
restart_case "passive pair, active A crashed, restarted" A "${ACTIVE_A[@]}"
tcp_transfer "$NS_B" "$NS_A" 10.99.0.1 5002 4
stop_daemon "${PID_OF[A]}" TERM
stop_daemon "${PID_OF[B]}" TERM

step "summary (limit $RESUME_LIMIT s)"
printf '    %s\n' "${RESULTS[@]}"
