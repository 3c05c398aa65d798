#!/usr/bin/env bash
# test_attack_future_initiation.sh — a recorded initiation stamped far ahead, replayed to a
# passive end that has just restarted (and so remembers no timestamp), must not lock its real
# peer out.  No -c on either end: the clocks need not agree.
#
# Recording: A is run under libfaketime with its wall clock OFFSET ahead (the monotonic clock,
# which drives every timer, left alone), its peer's port silently dropped; its first
# initiation is captured from the wire.  Then B (passive) and A (true clock) make a tunnel, A
# pings B every 0.1 s, and for each recording:
#   1. B is restarted;
#   2. as soon as B listens, the recorded initiation is sent to it (before A, whose data now
#      goes unanswered, starts a new handshake after 5 s);
#   3. required: a ping reply within 10 s of B's restart (A's genuine initiation accepted).
# Cases: a year ahead, sent from another address (198.18.0.3:40000); an hour ahead, sent
# from A's own address and port 198.18.0.1:7778 (spoofed).  Printed for each: the time to
# the first ping reply, B's responses and drops.  Then a sha256-checked transfer.
#
# usage: bash test_attack_future_initiation.sh [path/to/squtun]
# shellcheck disable=SC2034  # arrays filled by name (snapshot) look unused to shellcheck
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/e2e/attack_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/attack_lib.sh"
e2e_init "$@"
attack_init
require_cmd nft
find_faketime

RESUME_LIMIT=10
netns_pair
ip -n "$NS_A" addr add 198.18.0.3/24 dev veth0
tunnel_ends
ARGS_A=(-v -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$KEY" --pidfile "$PF_A")
ARGS_B=(-v -l 7777 -i tun0 -k "$KEY" --pidfile "$PF_B")
RESULTS=()

# record_ahead OFFSET OUT — the first initiation of an A whose wall clock is OFFSET ahead
record_ahead() {
  local offset=$1 out=$2 pid
  nft_table "$NS_B" sqmute "udp dport 7777 drop"
  sniff_start "$NS_A" veth0 "$out" --payload --src 198.18.0.1 --sport 7778
  local sniff_pid=$SNIFF_PID
  DAEMON_PREFIX=(env "LD_PRELOAD=$FAKETIME_LIB" "FAKETIME=$offset" FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_NO_CACHE=1
    "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
  start_daemon "$NS_A" "${ARGS_A[@]}"
  pid=$DAEMON_PID
  DAEMON_PREFIX=()
  one() { grep -q '"type": 1,' "$out"; }
  wait_for 5 one || die "A ($offset) sent no initiation"
  stop_daemon "$pid" TERM
  sniff_stop "$sniff_pid" "$out"
  nft_drop_table "$NS_B" sqmute
  local ahead
  ahead=$("$PYTHON" - "$out" <<'EOF'
import json, struct, sys, time
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "hex" in r and r["type"] == 1:
        ts = struct.unpack(">Q", bytes.fromhex(r["hex"])[40:48])[0]
        print(round(ts / 1e9 - r["t"]))
        break
EOF
)
  info "recorded A's initiation stamped $ahead s ahead of the true time"
}

YEAR=$E2E_TMP/year-ahead.jsonl
HOUR=$E2E_TMP/hour-ahead.jsonl
step "record an initiation stamped a year ahead, and one an hour ahead"
record_ahead +365d "$YEAR"
record_ahead +1h "$HOUR"

step "the tunnel: passive B, active A (true clocks)"
tunnel_b_then_a
spawn helper ping-future "$NS_A" ping -D -n -i 0.1 -W 1 10.99.0.2
PING_PID=$SPAWN_PID PING_LOG=$SPAWN_LOG

# restart_b_and_replay LABEL CAPTURE FROM — restart B, send it CAPTURE's initiation from FROM
restart_b_and_replay() {
  local label=$1 cap=$2 from=$3 t_restart resume sent
  local -A s
  step "$label"
  stop_daemon "$PID_B" TERM
  t_restart=$(now_ms)
  start_daemon "$NS_B" "${ARGS_B[@]}"
  PID_B=$DAEMON_PID
  wait_for 10 udp_listening "$NS_B" 7777 || die "$label: B does not listen"
  sent=$(ip netns exec "$NS_A" "$PYTHON" "$ATTACK_PY" replay "$cap" --from "$from" --to 198.18.0.2:7777 \
    --src 198.18.0.1 --sport 7778 --types 1) || die "$label: replay failed"
  info "$label: sent at $(since "$t_restart") s after B's restart: $sent"
  back() { [[ -n $(ping_first_reply_after "$PING_LOG" "$t_restart") ]]; }
  wait_for $((RESUME_LIMIT + 1)) back || true
  resume=$(ping_first_reply_after "$PING_LOG" "$t_restart")
  snapshot s "$NS_B" "$PF_B"
  info "$label: first ping reply ${resume:-never} s after B's restart; B: responses_sent ${s[responses_sent]}, handshakes ${s[handshakes]}, drops $(drops_line s)"
  RESULTS+=("$(printf '%-40s first ping reply after %s s; B responses %s, drops %s' "$label" "${resume:-(none)}" "${s[responses_sent]}" "$(drops_line s)")")
  if [[ -z $resume ]] || ! awk -v r="$resume" -v l="$RESUME_LIMIT" 'BEGIN { exit !(r <= l) }'; then
    die "$label: the restarted B did not take its peer back within $RESUME_LIMIT s (first reply: ${resume:-none})"
  fi
  pass "$label: the real peer is back after $resume s"
}

restart_b_and_replay "a year ahead, from 198.18.0.3:40000" "$YEAR" 198.18.0.3:40000
restart_b_and_replay "an hour ahead, from A's address (spoofed)" "$HOUR" 198.18.0.1:7778
stop_helper "$PING_PID" INT

step "the tunnel still works"
ping_report "$NS_A" 10.99.0.2 5
transfers_both_ways 2 5001
stop_daemon "$PID_A" TERM
stop_daemon "$PID_B" TERM

step "summary"
printf '    %s\n' "${RESULTS[@]}"
