#!/usr/bin/env bash
# ctest: long
# test_attack_replay_cycle.sh — many recorded initiations, replayed round-robin in cycles from
# another address and from the peer's own (spoofed) address to a passive end running
# -c 3600, while the tunnel carries pings and two genuine handshakes happen.
#
# Recording (the underlay captured at A; B's port silently dropped, so B never sees any of
# them; both ends run -c 3600, so every recorded initiation stays inside the clock-skew
# window for the whole test):
#   - one A process, its peer unreachable, retrying every 2 s for RECORD_SECS: one sender
#     (one instance tag, increasing timestamps), as during an outage;
#   - A restarted RESTARTS times: each process sends its first initiation at once, so many
#     senders with one initiation each.
# Together more than the 128 answered randoms squtun once remembered under -c.
# Then B (passive, -c 3600) and a new A (-c 3600) start.  A pings B through the tunnel every
# 0.2 s while `attack.py cycle` replays every recorded initiation round-robin at RATE a
# second for REPLAY_SECS, each datagram in turn from 198.18.0.3:40000 (another address) and
# from 198.18.0.1:7778 (A's address and port, spoofed).  A third of the way in, a genuine
# rekey of the running A is forced (B's packets to A are dropped in A's namespace until A's
# new-handshake timer has sent a new initiation, then let through); at two thirds A is
# restarted (a genuine new sender).  SQUTUN_E2E_LONG=1 replays for 150 s instead, so that
# the replay also spans A's own rekey at 120 s.
# Checked, from a capture of everything B sends:
#   - no recorded initiation is answered twice (a response names the initiation it answers
#     by that initiation's sender index), however many cycles go by;
#   - both genuine handshakes complete, each with a ping reply within 10 s;
#   - outside those two outages no ping goes unanswered for a second or more; at the end
#     sha256-checked transfers both ways.
# Printed: initiations recorded (senders, most of one sender), replayed (cycles, rate),
# answered (distinct, most answers to one), B's drops and responses, handshakes, ping gaps.
#
# usage: bash test_attack_replay_cycle.sh [path/to/squtun]
# shellcheck disable=SC2034  # arrays filled by name (snapshot) look unused to shellcheck
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/e2e/attack_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/attack_lib.sh"
e2e_init "$@"
attack_init
require_cmd nft

RECORD_SECS=${RECORD_SECS:-30}
RESTARTS=${RESTARTS:-150}
RATE=${RATE:-200}
REPLAY_SECS=60
[[ ${SQUTUN_E2E_LONG:-0} == 1 ]] && REPLAY_SECS=150
RESUME_LIMIT=10

netns_pair
ip -n "$NS_A" addr add 198.18.0.3/24 dev veth0
tunnel_ends
ARGS_A=(-v -c 3600 -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$KEY" --pidfile "$PF_A")
ARGS_B=(-v -c 3600 -l 7777 -i tun0 -k "$KEY" --pidfile "$PF_B")

step "record: A's initiations while its peer is unreachable (${RECORD_SECS}s), then $RESTARTS restarts of A"
REC=$E2E_TMP/initiations.jsonl
RECORDS=$E2E_TMP/initiations.bin
nft_table "$NS_B" sqmute "udp dport 7777 drop"
sniff_start "$NS_A" veth0 "$REC" --payload --src 198.18.0.1 --sport 7778
REC_PID=$SNIFF_PID
recorded() { grep -c '"type": 1,' "$REC" || true; }
start_daemon "$NS_A" "${ARGS_A[@]}"
PID_A=$DAEMON_PID
sleep "$RECORD_SECS" # the recording is made of A's retries, one every 2 s: waiting is the point
stop_daemon "$PID_A" TERM
t0=$(now_ms)
for ((i = 0; i < RESTARTS; i++)); do
  n0=$(recorded)
  start_daemon "$NS_A" "${ARGS_A[@]}" >/dev/null
  sent_one() { (($(recorded) > n0)); }
  wait_for 5 sent_one || die "restart $i: A sent no initiation within 5 s"
  stop_daemon "$DAEMON_PID" TERM >/dev/null
done
info "$RESTARTS restarts in $(since "$t0") s"
sniff_stop "$REC_PID" "$REC"
nft_drop_table "$NS_B" sqmute
STATS=$("$PYTHON" - "$REC" "$RECORDS" <<'EOF'
import json, struct, sys
tags, records = {}, []
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "hex" in r and r["type"] == 1 and r["len"] == 64:
        p = bytes.fromhex(r["hex"])
        records.append(p)
        tags[p[8:16]] = tags.get(p[8:16], 0) + 1
open(sys.argv[2], "wb").write(b"".join(records))
print(json.dumps({"initiations": len(records), "senders": len(tags), "most_of_one_sender": max(tags.values())}))
EOF
)
info "recorded: $STATS"
N_RECORDED=$("$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])["initiations"])' "$STATS")
((N_RECORDED > 128)) || die "only $N_RECORDED initiations recorded; the test needs more than 128"

step "the tunnel: passive B and a new A, both -c 3600"
tunnel_b_then_a

step "replay all $N_RECORDED round-robin at $RATE/s for ${REPLAY_SECS}s from 198.18.0.3:40000 and (spoofed) 198.18.0.1:7778"
OUT_B=$E2E_TMP/b-sent.jsonl
sniff_start "$NS_B" veth0 "$OUT_B" --payload --src 198.18.0.2
OUT_PID=$SNIFF_PID
spawn helper ping-cycle "$NS_A" ping -D -n -i 0.2 -W 1 10.99.0.2
PING_PID=$SPAWN_PID PING_LOG=$SPAWN_LOG
T_START=$(now_ms)
spawn helper replay-cycle "$NS_A" "$PYTHON" "$ATTACK_PY" cycle "$RECORDS" --to 198.18.0.2:7777 \
  --from 198.18.0.3:40000 --from 198.18.0.1:7778 --rate "$RATE" --seconds "$REPLAY_SECS"
REPLAY_PID=$SPAWN_PID REPLAY_LOG=$SPAWN_LOG

# at a third: a genuine rekey of the running A, forced by keeping B's packets from A
sleep $((REPLAY_SECS / 3)) # the replay runs meanwhile
step "a genuine new handshake of the running A, under the replay"
h0=$(show_counter "$NS_A" "$PF_A" handshakes)
i0=$(show_counter "$NS_A" "$PF_A" initiations_sent)
T_FORCE=$(now_ms)
nft_table "$NS_A" sqblock "ip saddr 198.18.0.2 udp sport 7777 drop"
a_initiated() { (($(show_counter "$NS_A" "$PF_A" initiations_sent) > i0)); }
wait_for 15 a_initiated || die "A started no new handshake within 15 s of losing B's packets"
nft_drop_table "$NS_A" sqblock
T_UNBLOCK=$(now_ms)
rekeyed() { (($(show_counter "$NS_A" "$PF_A" handshakes) > h0)) && [[ -n $(ping_first_reply_after "$PING_LOG" "$T_UNBLOCK") ]]; }
wait_for "$RESUME_LIMIT" rekeyed ||
  die "the forced handshake did not complete (or no ping reply) within $RESUME_LIMIT s of letting B's packets through (A: $(drops_line_of "$NS_A" "$PF_A"); B: $(drops_line_of "$NS_B" "$PF_B"))"
RESUME_REKEY=$(ping_first_reply_after "$PING_LOG" "$T_UNBLOCK")
T_REKEYED=$(now_ms)
info "forced handshake: first ping reply ${RESUME_REKEY} s after B's packets were let through"

# at two thirds: A restarted, a genuine new sender
sleep $((REPLAY_SECS / 3 - (T_REKEYED - T_FORCE) / 1000)) || true
step "A restarted (a new sender), under the replay"
stop_daemon "$PID_A" TERM
T_RESTART=$(now_ms)
start_daemon "$NS_A" "${ARGS_A[@]}"
PID_A=$DAEMON_PID
back() { [[ -n $(ping_first_reply_after "$PING_LOG" "$T_RESTART") ]]; }
wait_for "$RESUME_LIMIT" back || die "no ping reply within $RESUME_LIMIT s of restarting A (B: $(drops_line_of "$NS_B" "$PF_B"))"
RESUME_RESTART=$(ping_first_reply_after "$PING_LOG" "$T_RESTART")
T_BACK=$(now_ms)
info "restarted A: first ping reply ${RESUME_RESTART} s after the restart"

reap "$REPLAY_PID" $((REPLAY_SECS + 30)) || die "the replay did not end"
REPLAYED=$(grep '^{' "$REPLAY_LOG" | tail -n 1)
T_END=$(now_ms)
stop_helper "$PING_PID" INT
sleep 1 # responses to the last replays still on their way into the capture
sniff_stop "$OUT_PID" "$OUT_B"
info "replayed: $REPLAYED"

step "what B answered"
ANSWERS=$("$PYTHON" - "$RECORDS" "$OUT_B" <<'EOF'
import json, struct, sys
data = open(sys.argv[1], "rb").read()
recorded = {struct.unpack("<I", data[i + 4:i + 8])[0] for i in range(0, len(data), 64)}
answers = {}
for line in open(sys.argv[2]):
    r = json.loads(line)
    if "hex" in r and r["type"] == 2 and r["len"] == 60:
        index = struct.unpack("<I", bytes.fromhex(r["hex"])[8:12])[0]
        if index in recorded:
            answers[index] = answers.get(index, 0) + 1
print(json.dumps({"answered_distinct": len(answers), "answers": sum(answers.values()),
                  "most_answers_to_one": max(answers.values(), default=0)}))
EOF
)
declare -A SB
snapshot SB "$NS_B" "$PF_B"
GAP1=$(ping_gap "$PING_LOG" "$T_START" "$T_FORCE")
GAP2=$(ping_gap "$PING_LOG" "$((T_REKEYED + 1000))" "$T_RESTART")
GAP3=$(ping_gap "$PING_LOG" "$((T_BACK + 1000))" "$T_END")
info "recorded $STATS"
info "replayed $REPLAYED"
info "B answered the recorded initiations: $ANSWERS"
info "B: responses_sent ${SB[responses_sent]}, handshakes ${SB[handshakes]}, drops $(drops_line SB)"
info "genuine handshakes under the replay: forced rekey ${RESUME_REKEY} s, restart ${RESUME_RESTART} s to the first ping reply"
info "longest time without a ping reply outside them: ${GAP1} s, ${GAP2} s, ${GAP3} s"
MOST=$("$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])["most_answers_to_one"])' "$ANSWERS")
((MOST <= 1)) || die "a recorded initiation was answered $MOST times"
for g in "$GAP1" "$GAP2" "$GAP3"; do
  awk -v g="$g" 'BEGIN { exit !(g < 1.0) }' || die "pings went unanswered for $g s outside the forced handshakes"
done
pass "no recorded initiation answered twice; the tunnel kept working through the replay and two genuine handshakes"

step "the tunnel still works"
ping_report "$NS_A" 10.99.0.2 5
transfers_both_ways 4 5001
stop_daemon "$PID_A" TERM
stop_daemon "$PID_B" TERM
