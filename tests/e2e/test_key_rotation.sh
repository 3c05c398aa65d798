#!/usr/bin/env bash
# ctest: serial (a ping every 10 ms must not lose one packet to a busy machine)
# test_key_rotation.sh — the key changes under a ping every 10 ms, by the procedure of
# squtun(8) KEY ROTATION, and not one packet is lost:
#   1. next-key = NEW, reloaded on the passive end B first, then (seconds later) on A;
#      once both have it, the sessions are made under NEW (squtun show: session_key)
#   2. key = NEW with next-key = OLD on A, then key = NEW alone on B, then on A
#   3. a second rotation NEW -> THIRD with the other order (A first in step 1, B first in 2)
# Every reload starts a handshake under the newest key; an end that lacks it does not answer,
# and the other falls back to the older key while the session in use carries the pings.
#
# usage: bash test_key_rotation.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

netns_pair
tunnel_ends
OLD=$KEY NEW=$E2E_TMP/new.key THIRD=$E2E_TMP/third.key
make_key "$NEW"
make_key "$THIRD"
fp() { "$SQUTUN" --fingerprint "$1"; }
CONF_A=$E2E_TMP/a.conf CONF_B=$E2E_TMP/b.conf
# conf_a / conf_b KEY [NEXT] — the end's config file with that key and next key
conf_a() {
  printf '%s\n' "listen = 7778" "peer = 198.18.0.2" "peer-port = 7777" "interface = tun0" "pidfile = $PF_A" \
    "verbose = yes" "key = $1" ${2:+"next-key = $2"} >"$CONF_A"
}
conf_b() {
  printf '%s\n' "listen = 7777" "interface = tun0" "pidfile = $PF_B" "verbose = yes" "key = $1" \
    ${2:+"next-key = $2"} >"$CONF_B"
}
conf_a "$OLD"
conf_b "$OLD"
start_pair --config "$CONF_B" -- --config "$CONF_A"

# The pings: every 10 ms from A to B for the whole test; counted at the end.
PINGS=12000
spawn helper pings "$NS_A" ping -n -i 0.01 -W 2 -c "$PINGS" 10.99.0.2
PING_PID=$SPAWN_PID PING_LOG=$SPAWN_LOG

# reload PID LOG — SIGHUP, and wait until the reload is logged as done
reload() {
  local pid=$1 log=$2 before
  before=$(grep -c 'reloaded:' "$log" || true)
  kill -HUP "$pid"
  done_reloading() { (($(grep -c 'reloaded:' "$log" || true) > before)); }
  wait_for 10 done_reloading || die "pid $pid did not reload within 10 s: $(tail -n 2 "$log")"
  ! grep -q 'reload refused' "$log" || die "a reload was refused: $(grep 'reload refused' "$log" | tail -n 1)"
}

# sessions_under KEYFILE — both ends' sessions were made under that key
sessions_under() {
  local want
  want=$(fp "$1")
  [[ $(show_counter "$NS_A" "$PF_A" session_key) == "$want" && $(show_counter "$NS_B" "$PF_B" session_key) == "$want" ]]
}
# pause SECS — time between two reloads, for the handshakes in between: not a synchronisation
pause() { sleep "$1"; }

# rotate FROM TO FIRST SECOND — the two steps, FIRST (A or B) reloading before SECOND each time
rotate() {
  local from=$1 to=$2 first=$3 second=$4
  step "rotate $(fp "$from") -> $(fp "$to"): step 1, next-key on $first, then on $second"
  [[ $first == B ]] && { conf_b "$from" "$to"; reload "$PID_B" "$LOG_B"; } || { conf_a "$from" "$to"; reload "$PID_A" "$LOG_A"; }
  pause 6
  sessions_under "$from" || die "the sessions left $(fp "$from") before both ends had $(fp "$to")"
  [[ $second == B ]] && { conf_b "$from" "$to"; reload "$PID_B" "$LOG_B"; } || { conf_a "$from" "$to"; reload "$PID_A" "$LOG_A"; }
  wait_for 15 sessions_under "$to" ||
    die "15 s after both ends had the next key, the sessions are under A $(show_counter "$NS_A" "$PF_A" session_key) / B $(show_counter "$NS_B" "$PF_B" session_key), not $(fp "$to")"
  pass "both sessions under $(fp "$to")"
  step "step 2: key = $(fp "$to") on $second (old as next key), then alone on $first, then alone on $second"
  [[ $second == B ]] && { conf_b "$to" "$from"; reload "$PID_B" "$LOG_B"; } || { conf_a "$to" "$from"; reload "$PID_A" "$LOG_A"; }
  pause 3
  [[ $first == B ]] && { conf_b "$to"; reload "$PID_B" "$LOG_B"; } || { conf_a "$to"; reload "$PID_A" "$LOG_A"; }
  pause 6
  [[ $second == B ]] && { conf_b "$to"; reload "$PID_B" "$LOG_B"; } || { conf_a "$to"; reload "$PID_A" "$LOG_A"; }
  wait_for 10 sessions_under "$to" || die "after step 2 the sessions are not under $(fp "$to")"
  [[ $(show_counter "$NS_A" "$PF_A" next_key) == none && $(show_counter "$NS_B" "$PF_B" next_key) == none ]] ||
    die "a next key is still loaded after step 2"
  pass "only $(fp "$to") is loaded on both ends"
}

rotate "$OLD" "$NEW" B A
rotate "$NEW" "$THIRD" A B

step "not one ping lost"
stop_helper "$PING_PID" INT
summary=$(grep -E 'packets transmitted' "$PING_LOG") || die "ping printed no summary: $(tail -n 3 "$PING_LOG")"
info "$summary"
sent=$(sed -E 's/^([0-9]+) packets transmitted.*/\1/' <<<"$summary")
received=$(sed -E 's/.* ([0-9]+) received.*/\1/' <<<"$summary")
secs=$(sed -E 's/.*time ([0-9]+)ms.*/\1/' <<<"$summary")
((sent >= 1000)) || die "only $sent pings were sent: the test did not run long enough to prove anything"
# The SIGINT that stops ping can come after the last ping left and before its answer is back:
# ping counts that one as lost, so the last one sent is the only one allowed to go unanswered.
missing=$(comm -23 <(seq 1 $((sent - 1)) | sort) <(grep -oE 'icmp_seq=[0-9]+ ' "$PING_LOG" | grep -oE '[0-9]+' | sort -u) |
  sort -n | tr '\n' ' ')
[[ -z $missing ]] || die "pings $missing($((sent - received)) of $sent) went unanswered during the key rotations"
pass "$received of $sent pings answered across two rotations (the last one may be in flight at the SIGINT) ($((sent * 1000 / secs)) a second, asked for every 10 ms)"
