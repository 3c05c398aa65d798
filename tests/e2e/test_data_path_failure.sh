#!/usr/bin/env bash
# test_data_path_failure.sh — a data-path thread that fails does not end in std::terminate:
# OpenSSL's random generator is made to fail under daemon A (a preloaded RAND_bytes,
# tests/e2e/support/rand_fail.cpp) once its tunnel is up; B restarts, so A must answer a new
# handshake, which needs random bytes. A must log why it stops, remove its pid file and
# control socket, and exit with status 1.
#
# usage: bash test_data_path_failure.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

if sanitized_build; then
  # The sanitizer runtime must come first among the libraries: nothing else is preloaded.
  E2E_DONE_MSG="SKIPPED (sanitizer build)"
  exit 77
fi
RAND_LIB=${SQUTUN_RAND_FAIL_LIB:-}
if [[ -z $RAND_LIB ]]; then
  require_cmd c++
  RAND_LIB=$E2E_TMP/libsqutun_rand_fail.so
  c++ -std=c++20 -O2 -fPIC -shared -o "$RAND_LIB" "$E2E_DIR/support/rand_fail.cpp" -ldl ||
    die "compiling $E2E_DIR/support/rand_fail.cpp failed"
fi
RAND_LIB=$(realpath "$RAND_LIB")
FAIL_AFTER_MS=3000

netns_pair
tunnel_ends
ARGS_B=(-v -l 7777 -p 198.18.0.1 -r 7778 -i tun0 -k "$KEY" --pidfile "$PF_B")
start_b "${ARGS_B[@]}"
DAEMON_PREFIX=(env "LD_PRELOAD=$RAND_LIB" "SQUTUN_RAND_FAIL_AFTER_MS=$FAIL_AFTER_MS")
t0=$(now_ms)
connect_a -v -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$KEY" --pidfile "$PF_A"
DAEMON_PREFIX=()
SOCK_A=${PF_A%.pid}.sock
[[ -f $PF_A && -S $SOCK_A ]] || die "A has no pid file $PF_A or control socket $SOCK_A"

step "OpenSSL's generator fails under A; B restarts and initiates"
failing() { (($(now_ms) - t0 > FAIL_AFTER_MS + 500)); }
wait_for 10 failing || die "the clock did not pass the failure time"
stop_daemon "$PID_B" TERM
start_b "${ARGS_B[@]}"
reap "$PID_A" 10 || die "A (pid $PID_A) still runs 10 s after its random generator failed"
status=$WAIT_STATUS
info "A exited with status $status"
((status == 1)) || die "A exited with status $status, not 1, after a data-path failure"
line=$(grep -E 'data path failed' "$LOG_A") || die "A logged no reason:"$'\n'"$(tail -n 5 "$LOG_A")"
[[ $line == *"random"* ]] || die "A's log line does not say the random generator failed: $line"
[[ ! -e $PF_A && ! -e $SOCK_A ]] || die "A left its pid file or control socket behind"
proc_alive "$PID_B" || die "B died too"
pass "A: '$line', exit status 1, pid file and socket removed"
