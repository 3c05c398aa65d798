#!/usr/bin/env bash
# ctest: long (three recorded sessions replayed both ways)
# test_attack_replay.sh — a recorded session replayed from the peer's own
# address and port, while the tunnel runs.
#
# The underlay link is captured (AF_PACKET, attack.py sniff) from before the daemons start, so
# the recording holds the handshake, keepalives and data (pings and a 1 MiB transfer each way).
# With the tunnel idle, every datagram A sent is sent again to B from A's address and port
# 198.18.0.1:7778 (a raw socket, so the port the daemon has bound is no obstacle), then every
# datagram B sent is sent to A from 198.18.0.2:7777.  Checked, for each direction:
#   - the TUN device's rx_packets and the daemon's rx_packets do not move (nothing delivered),
#     no handshake completes, the session stays up;
#   - every replayed datagram is counted: as replay / unknown_session / clock_skew drops (the
#     replay window, the initiation timestamps, responses bound to a pending initiation);
#   - the daemon sends nothing: a capture over the replay plus 2.5 s (longer than the 2 s
#     passive-keepalive timer an accepted data packet would arm) sees no datagram from it, and
#     its sent counters (data, keepalives, initiations, responses) do not move.
#     The one exception the protocol specifies (PROTOCOL.md 5.3, SECURITY.md 4.3): without -c,
#     an initiation the target never saw, nor any later one (a static end's first
#     initiation, sent before its peer listened) is fresh to it and is answered, once, with
#     a 60-byte response to the replayer's (here: the real peer's) address, which the real
#     peer drops.  The test counts
#     those from the recording and requires exactly that many responses and nothing else.
# Three pairs:
#   passive-pair    passive B, active A: A initiates once B listens; no answer allowed at all
#   static-pair     both -p, both initiate at start: answers only as specified above
#   static-pair-c2  both -p and -c 2: the recording is older than 2 s when replayed, so even
#                   those initiations are refused (clock_skew): no answer allowed at all
# Each ends with sha256-checked transfers through the tunnel.
#
# usage: bash test_attack_replay.sh [path/to/squtun]
# shellcheck disable=SC2034  # arrays filled by name (snapshot) look unused to shellcheck
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/e2e/attack_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/attack_lib.sh"
e2e_init "$@"
attack_init

netns_pair
tunnel_ends

# types_of CAPTURE SRC — "t1=N t2=N t3=N" of the datagrams SRC sent in CAPTURE
types_of() {
  local t out=""
  for t in 1 2 3; do
    out+="t$t=$(captured "$1" "r['src'] == '$2' and r['type'] == $t and not r['fragmented']") "
  done
  echo "$out"
}

# replay_into LABEL CAPTURE FROM_NS FROM_ADDR FROM_PORT TO_NS TO_ADDR TO_PORT TO_PIDFILE
# Replays what FROM sent (in CAPTURE) to TO, from FROM's address and port; checks TO.
# Initiations TO never saw, nor any later one (sent before TO listened), are fresh to it:
# without -c the protocol answers them (PROTOCOL.md 5.3, SECURITY.md 4.3). One that TO saw
# and ignored (the loser of a simultaneous-initiation tie-break) is remembered and refused.
# Their number comes from the capture (attack.py
# unseen-initiations); with SKEW_LIMITED=1 (-c shorter than the recording's age) none may be.
replay_into() {
  local label=$1 cap=$2 fns=$3 faddr=$4 fport=$5 tns=$6 taddr=$7 tport=$8 tpf=$9
  local -A before after
  local watch=$E2E_TMP/watch-${label//[^A-Za-z0-9]/_}.jsonl tun0 tun1 sent0 sent1 n summary got unseen expect
  unseen=$("$PYTHON" "$ATTACK_PY" unseen-initiations "$cap" --initiator "$faddr" --responder "$taddr")
  expect=$("$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])["unseen"])' "$unseen")
  [[ ${SKEW_LIMITED:-0} == 1 ]] && expect=0
  info "$label: initiations in the recording: $unseen; expected answers: $expect"
  snapshot before "$tns" "$tpf"
  tun0=$(tun_rx "$tns")
  sent0=$(sent_total "$tns" "$tpf")
  # anything the target sends during the replay (replays come from FROM's address, not TO's)
  sniff_start "$fns" veth0 "$watch" --src "$taddr"
  local watch_pid=$SNIFF_PID
  summary=$(ip netns exec "$fns" "$PYTHON" "$ATTACK_PY" replay "$cap" --from "$faddr:$fport" \
    --to "$taddr:$tport" --src "$faddr" --sport "$fport") || die "$label: replay failed"
  n=$("$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])["sent"])' "$summary")
  ((n > 0)) || die "$label: nothing to replay in the capture"
  # every replayed datagram must reach the daemon and be counted (dropped, or answered)
  replayed() {
    local -A s
    snapshot s "$tns" "$tpf"
    (($(drops_total s) - $(drops_total before) + s[responses_sent] - before[responses_sent] >= n))
  }
  wait_for 10 replayed || {
    snapshot after "$tns" "$tpf"
    die "$label: $n datagrams replayed, but the daemon counted only $(($(drops_total after) - $(drops_total before))) drops ($(drops_delta_line after before)) and $(delta after before responses_sent) responses"
  }
  # a deliberate observation window: an accepted data packet would arm the 2 s passive
  # keepalive; an accepted initiation is answered at once
  sleep 2.5
  sniff_stop "$watch_pid" "$watch"
  snapshot after "$tns" "$tpf"
  tun1=$(tun_rx "$tns")
  sent1=$(sent_total "$tns" "$tpf")
  got=$(captured "$watch")
  info "$label: replayed $n datagrams ($summary); drops $(drops_delta_line after before); responses sent +$(delta after before responses_sent)"
  local answers
  answers=$(captured "$watch" "r['type'] == 2 and r['len'] == 60 and r['dst'] == '$faddr' and r['dport'] == $fport")
  [[ $got == "$expect" && $answers == "$expect" ]] ||
    die "$label: the daemon sent $got datagram(s) during the replay ($answers responses; expected $expect responses and nothing else):"$'\n'"$(head -n 5 "$watch")"
  [[ $((sent1 - sent0)) == "$expect" && $(delta after before responses_sent) == "$expect" ]] ||
    die "$label: the daemon's sent counters moved by $((sent1 - sent0)) (responses +$(delta after before responses_sent); expected $expect)"
  [[ $tun1 == "$tun0" ]] || die "$label: $((tun1 - tun0)) replayed packets reached the TUN device (rx_packets $tun0 -> $tun1)"
  [[ $(delta after before rx_packets) == 0 ]] || die "$label: the daemon delivered $(delta after before rx_packets) replayed packets"
  [[ $(delta after before handshakes) == 0 ]] || die "$label: a replayed handshake completed"
  [[ $(show_counter "$tns" "$tpf" session) == up ]] || die "$label: the session went down"
  local total replay unknown skew
  total=$(($(drops_total after) - $(drops_total before)))
  replay=$(delta after before drop_replay)
  unknown=$(delta after before drop_unknown_session)
  skew=$(delta after before drop_clock_skew)
  [[ $total == $((n - expect)) ]] || die "$label: $n datagrams replayed, $expect answerable, but $total drops counted ($(drops_delta_line after before))"
  [[ $((replay + unknown + skew)) == "$total" ]] ||
    die "$label: replayed datagrams dropped for other reasons than replay/unknown_session/clock_skew: $(drops_delta_line after before)"
  ((replay > 0)) || die "$label: drop_replay did not rise"
  RESULTS+=("$(printf '%-34s replayed %5d: replay +%d, unknown_session +%d, clock_skew +%d, answered %d, tun rx +0' \
    "$label" "$n" "$replay" "$unknown" "$skew" "$expect")")
  pass "$label: $n replayed datagrams: $total dropped (replay +$replay, unknown_session +$unknown, clock_skew +$skew), $expect answered as specified, nothing delivered"
}

# replay_case NAME — ARGS_A / ARGS_B: record a session, replay it both ways, transfer after
replay_case() {
  local name=$1 cap=$E2E_TMP/session-$1.jsonl
  step "$name: record a session (handshake, keepalives, data)"
  sniff_start "$NS_A" veth0 "$cap" --payload
  local rec_pid=$SNIFF_PID
  start_pair "${ARGS_B[@]}" --pidfile "$PF_B" -- "${ARGS_A[@]}" --pidfile "$PF_A"
  ping_report "$NS_A" 10.99.0.2 5
  ping_report "$NS_B" 10.99.0.1 5
  transfers_both_ways 1 5001
  wait_quiet 3 "$NS_A" "$PF_A" "$NS_B" "$PF_B" || die "$name: the tunnel does not go idle"
  sniff_stop "$rec_pid" "$cap"
  info "recorded: A sent $(types_of "$cap" 198.18.0.1); B sent $(types_of "$cap" 198.18.0.2)"
  info "handshakes logged: A: $(grep -o 'completed ([a-z]*)' "$LOG_A" | tr '\n' ' '); B: $(grep -o 'completed ([a-z]*)' "$LOG_B" | tr '\n' ' ')"

  step "$name: replay A's datagrams to B from 198.18.0.1:7778"
  replay_into "$name, A's to B" "$cap" "$NS_A" 198.18.0.1 7778 "$NS_B" 198.18.0.2 7777 "$PF_B"
  step "$name: replay B's datagrams to A from 198.18.0.2:7777"
  replay_into "$name, B's to A" "$cap" "$NS_B" 198.18.0.2 7777 "$NS_A" 198.18.0.1 7778 "$PF_A"

  step "$name: the tunnel still works"
  ping_report "$NS_A" 10.99.0.2 5
  transfers_both_ways 4 5003
  { proc_alive "$PID_A" && proc_alive "$PID_B"; } || die "$name: a daemon died"
  stop_daemon "$PID_A" TERM
  stop_daemon "$PID_B" TERM
}

ARGS_A=(-v -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$KEY")
ARGS_B=(-v -l 7777 -i tun0 -k "$KEY")
replay_case passive-pair

ARGS_A=(-v -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$KEY")
ARGS_B=(-v -l 7777 -p 198.18.0.1 -r 7778 -i tun0 -k "$KEY")
replay_case static-pair

# -c 2: every recorded initiation is older than 2 s when it is replayed (the recording lasts
# longer than that), so even those the target never saw are refused (clock_skew): silence.
ARGS_A=(-v -c 2 -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$KEY")
ARGS_B=(-v -c 2 -l 7777 -p 198.18.0.1 -r 7778 -i tun0 -k "$KEY")
SKEW_LIMITED=1
replay_case static-pair-c2

step "summary"
printf '    %s\n' "${RESULTS[@]}"
