#!/usr/bin/env bash
# test_clock_skew.sh — the time-skew check, -c SECS, with one end's wall clock moved by
# libfaketime (monotonic clock untouched, so the daemon's timers run normally):
#   1. A one hour ahead, both ends -c 30: no handshake completes, the clock_skew counter rises
#   2. the same clocks without -c: the tunnel works; B refuses A's initiations (more than 10
#      minutes ahead, kMaxTimestampAhead) as clock_skew, but A answers B's
#   3. A 10 s ahead, -c 30: within the bound, the tunnel works
#
# usage: bash test_clock_skew.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

find_faketime

# skewed OFFSET — DAEMON_PREFIX for a daemon whose wall clock is OFFSET (e.g. +3600s) away.
# `env` execs, so the recorded PID stays squtun's.  ASan must not insist on coming first.
skewed() {
  DAEMON_PREFIX=(env "LD_PRELOAD=$FAKETIME_LIB" "FAKETIME=$1" FAKETIME_DONT_FAKE_MONOTONIC=1
    FAKETIME_NO_CACHE=1 "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
}
skewed +3600s
real=$(date +%s)
fake=$("${DAEMON_PREFIX[@]}" date +%s)
(((fake - real) > 3500 && (fake - real) < 3700)) || die "libfaketime does not work here: date says $fake, real $real"
info "libfaketime works: +3600s gives $((fake - real)) s"
DAEMON_PREFIX=()

netns_pair
KEY=$E2E_TMP/site.key
make_key "$KEY"
tun_up "$NS_A" tun0 10.99.0.1/30
tun_up "$NS_B" tun0 10.99.0.2/30
ARGS_A=(-v -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$KEY" --pidfile "$(pidfile_for a)")
ARGS_B=(-v -l 7777 -p 198.18.0.1 -r 7778 -i tun0 -k "$KEY" --pidfile "$(pidfile_for b)")

# counter PID LOG NAME — value of NAME=<n> in the counters SIGUSR1 makes the daemon log
counter() {
  local out
  out=$(usr1_counters "$1" "$2") || die "no counters in $2 after SIGUSR1 to pid $1"
  grep -o "$3=[0-9]*" <<<"$out" | tail -n 1 | cut -d= -f2
}

step "1. A one hour ahead, both -c 30: no handshake may complete"
skewed +3600s
start_daemon "$NS_A" -c 30 "${ARGS_A[@]}"
PID_A=$DAEMON_PID LOG_A=$DAEMON_LOG
DAEMON_PREFIX=()
start_daemon "$NS_B" -c 30 "${ARGS_B[@]}"
PID_B=$DAEMON_PID LOG_B=$DAEMON_LOG
if wait_for 8 ns_ping "$NS_A" 10.99.0.2; then
  die "ping passed through the tunnel although A's clock is an hour off and both ends use -c 30"
fi
skew_a=$(counter "$PID_A" "$LOG_A" clock_skew)
skew_b=$(counter "$PID_B" "$LOG_B" clock_skew)
info "clock_skew drops: A ${skew_a:-?}, B ${skew_b:-?}"
[[ ${skew_a:-0} -gt 0 && ${skew_b:-0} -gt 0 ]] ||
  die "both ends should have refused the other's initiations as clock_skew (A: '${skew_a}', B: '${skew_b}')"
proc_alive "$PID_A" || die "A exited instead of waiting for a good handshake"
proc_alive "$PID_B" || die "B exited instead of waiting for a good handshake"
stop_daemon "$PID_A" TERM
stop_daemon "$PID_B" TERM
pass "an hour of skew with -c 30: no tunnel for 8 s; both ends counted clock_skew refusals"

step "2. the same skew without -c: B's initiations make the tunnel"
skewed +3600s
start_daemon "$NS_A" "${ARGS_A[@]}"
PID_A=$DAEMON_PID
DAEMON_PREFIX=()
start_daemon "$NS_B" "${ARGS_B[@]}"
PID_B=$DAEMON_PID
wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "no tunnel without -c although only the clocks differ"
ping_report "$NS_B" 10.99.0.1 5
stop_daemon "$PID_A" TERM
stop_daemon "$PID_B" TERM
pass "an hour of skew without -c: tunnel works (B initiated)"

step "3. A 10 s ahead, -c 30: within the bound"
skewed +10s
start_daemon "$NS_A" -c 30 "${ARGS_A[@]}"
PID_A=$DAEMON_PID
DAEMON_PREFIX=()
start_daemon "$NS_B" -c 30 "${ARGS_B[@]}"
PID_B=$DAEMON_PID
wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "no tunnel with 10 s skew and -c 30"
ping_report "$NS_B" 10.99.0.1 5
stop_daemon "$PID_A" TERM
stop_daemon "$PID_B" TERM
pass "10 s of skew with -c 30: tunnel works"
