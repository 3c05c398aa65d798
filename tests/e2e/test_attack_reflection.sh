#!/usr/bin/env bash
# test_attack_reflection.sh — a daemon's own datagrams sent back to it from
# its peer's address.  Both ends hold the same PSK, so "authentic" alone would accept them;
# the protocol refuses them by the instance tag in every initiation (reflected), by separate
# keys per direction and indices per end (a data message names the *peer's* index:
# unknown_session), and by binding responses to a pending initiation (unknown_session).
#
# Static pair (both -p, so only the peer's exact address and port get past the source check).
#   1. recorded: the underlay is captured from before the daemons start (handshake, keepalives,
#      pings, 1 MiB each way); with the tunnel idle, everything A sent is sent to A from B's
#      address and port 198.18.0.2:7777 (raw socket), then everything B sent to B from
#      198.18.0.1:7778.
#   2. live: B is stopped and a reflector bound to B's address and port 198.18.0.2:7777 sends
#      every datagram straight back to A while A pings through the tunnel, so A's data, and
#      then its new-handshake initiations and their retries, come back to it at once (while
#      its own handshake is pending: without the instance tag the tie-break would make A
#      answer its own initiation).
# Checked: nothing reaches the TUN device (rx_packets), no handshake completes, nothing is
# answered (capture and the sent counters), and every reflected datagram is counted:
# initiations as drop_reflected, everything else as drop_unknown_session.  Then B comes back
# and sha256-checked transfers cross the tunnel.
#
# usage: bash test_attack_reflection.sh [path/to/squtun]
# shellcheck disable=SC2034  # arrays filled by name (snapshot) look unused to shellcheck
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/e2e/attack_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/attack_lib.sh"
e2e_init "$@"
attack_init

netns_pair
tunnel_ends
ARGS_A=(-v -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$KEY" --pidfile "$PF_A")
ARGS_B=(-v -l 7777 -p 198.18.0.1 -r 7778 -i tun0 -k "$KEY" --pidfile "$PF_B")

# reflect_to LABEL CAPTURE TNS TADDR TPORT TPF PNS PADDR PPORT — send TARGET's own recorded
# datagrams to it from its peer's address PADDR:PPORT (raw socket in the peer's namespace PNS)
reflect_to() {
  local label=$1 cap=$2 tns=$3 taddr=$4 tport=$5 tpf=$6 pns=$7 paddr=$8 pport=$9
  local -A before after
  local watch=$E2E_TMP/watch-${label//[^A-Za-z0-9]/_}.jsonl tun0 tun1 sent0 sent1 n n1 summary got
  snapshot before "$tns" "$tpf"
  tun0=$(tun_rx "$tns")
  sent0=$(sent_total "$tns" "$tpf")
  sniff_start "$pns" veth0 "$watch" --src "$taddr"
  local watch_pid=$SNIFF_PID
  summary=$(ip netns exec "$pns" "$PYTHON" "$ATTACK_PY" replay "$cap" --from "$paddr:$pport" \
    --to "$taddr:$tport" --src "$taddr" --sport "$tport") || die "$label: sending failed"
  n=$("$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])["sent"])' "$summary")
  n1=$("$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])["by_type"].get("1", 0))' "$summary")
  ((n1 > 0)) || die "$label: the recording holds no initiation of the target (a static end initiates at start)"
  counted() {
    local -A s
    snapshot s "$tns" "$tpf"
    (($(drops_total s) - $(drops_total before) >= n))
  }
  wait_for 10 counted || {
    snapshot after "$tns" "$tpf"
    die "$label: $n datagrams reflected, but only $(($(drops_total after) - $(drops_total before))) drops counted ($(drops_delta_line after before))"
  }
  sleep 2.5 # observation window (longer than the 2 s passive-keepalive timer)
  sniff_stop "$watch_pid" "$watch"
  snapshot after "$tns" "$tpf"
  tun1=$(tun_rx "$tns")
  sent1=$(sent_total "$tns" "$tpf")
  got=$(captured "$watch")
  info "$label: reflected $n datagrams ($summary); drops $(drops_delta_line after before)"
  [[ $got == 0 ]] || die "$label: the daemon sent $got datagram(s) in answer:"$'\n'"$(head -n 5 "$watch")"
  [[ $sent1 == "$sent0" ]] || die "$label: the daemon's sent counters moved ($sent0 -> $sent1)"
  [[ $tun1 == "$tun0" ]] || die "$label: $((tun1 - tun0)) reflected packets reached the TUN device"
  [[ $(delta after before rx_packets) == 0 ]] || die "$label: the daemon delivered reflected packets"
  [[ $(delta after before handshakes) == 0 ]] || die "$label: a reflected handshake completed"
  local total refl unknown
  total=$(($(drops_total after) - $(drops_total before)))
  refl=$(delta after before drop_reflected)
  unknown=$(delta after before drop_unknown_session)
  [[ $total == "$n" ]] || die "$label: $n reflected, $total drops ($(drops_delta_line after before))"
  [[ $refl == "$n1" ]] || die "$label: $n1 of its own initiations reflected, drop_reflected +$refl"
  [[ $unknown == $((n - n1)) ]] || die "$label: its own responses and data should be unknown_session: $(drops_delta_line after before)"
  RESULTS+=("$(printf '%-26s reflected %5d: reflected +%d (its initiations), unknown_session +%d, answered 0, tun rx +0' "$label" "$n" "$refl" "$unknown")")
  pass "$label: $n of its own datagrams refused (reflected +$refl, unknown_session +$unknown), nothing delivered or answered"
}

step "record a session"
CAP=$E2E_TMP/session.jsonl
sniff_start "$NS_A" veth0 "$CAP" --payload
REC_PID=$SNIFF_PID
start_pair "${ARGS_B[@]}" -- "${ARGS_A[@]}"
ping_report "$NS_A" 10.99.0.2 5
ping_report "$NS_B" 10.99.0.1 5
transfers_both_ways 1 5001
wait_quiet 3 "$NS_A" "$PF_A" "$NS_B" "$PF_B" || die "the tunnel does not go idle"
sniff_stop "$REC_PID" "$CAP"
info "recorded $(captured "$CAP" "r['src'] == '198.18.0.1'") datagrams from A, $(captured "$CAP" "r['src'] == '198.18.0.2'") from B"

step "1a. A's own datagrams back to A, from B's address 198.18.0.2:7777"
reflect_to "recorded, to A" "$CAP" "$NS_A" 198.18.0.1 7778 "$PF_A" "$NS_B" 198.18.0.2 7777
step "1b. B's own datagrams back to B, from A's address 198.18.0.1:7778"
reflect_to "recorded, to B" "$CAP" "$NS_B" 198.18.0.2 7777 "$PF_B" "$NS_A" 198.18.0.1 7778
ping_report "$NS_A" 10.99.0.2 5

step "2. live: B stopped, a reflector on 198.18.0.2:7777 bounces everything back to A"
stop_daemon "$PID_B" TERM
ECHO_OUT=$E2E_TMP/echo.json
spawn helper reflector "$NS_B" "$PYTHON" "$ATTACK_PY" echo 198.18.0.2:7777 "$ECHO_OUT"
ECHO_PID=$SPAWN_PID
wait_for 10 udp_listening "$NS_B" 7777 || die "the reflector does not listen"
declare -A L0 L1
snapshot L0 "$NS_A" "$PF_A"
TUN0=$(tun_rx "$NS_A")
spawn helper ping-live "$NS_A" ping -n -i 0.2 -W 1 10.99.0.2
PING_PID=$SPAWN_PID
# A's pings go out as data, come back (unknown_session); unanswered for 5 s, A starts a
# handshake; its initiation comes back (reflected) and is retried every 2 s.
reflected_at_least() { (($(show_counter "$NS_A" "$PF_A" drop_reflected) - L0[drop_reflected] >= $1)); }
t0=$(now_ms)
wait_for 20 reflected_at_least 3 || die "A did not count 3 of its own initiations as reflected within 20 s ($(show_counter "$NS_A" "$PF_A" drop_reflected) total)"
info "3 reflected initiations after $(since "$t0") s"
stop_helper "$PING_PID" INT
stop_helper "$ECHO_PID" TERM
[[ -s $ECHO_OUT ]] || die "the reflector wrote no summary"
ECHOED=$(cat "$ECHO_OUT")
E1=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["by_type"].get("1", 0))' "$ECHO_OUT")
E3=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["by_type"].get("3", 0))' "$ECHO_OUT")
EALL=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["echoed"])' "$ECHO_OUT")
# the last echoes may still be on their way in
all_counted() {
  local -A s
  snapshot s "$NS_A" "$PF_A"
  (($(drops_total s) - $(drops_total L0) >= EALL))
}
wait_for 5 all_counted || true
snapshot L1 "$NS_A" "$PF_A"
TUN1=$(tun_rx "$NS_A")
info "reflector: $ECHOED; A's drops $(drops_delta_line L1 L0); A sent $(delta L1 L0 initiations_sent) initiations, $(delta L1 L0 responses_sent) responses"
[[ $(delta L1 L0 drop_reflected) == "$E1" ]] || die "A's $E1 reflected initiations counted as drop_reflected +$(delta L1 L0 drop_reflected)"
[[ $(delta L1 L0 drop_unknown_session) == "$E3" ]] || die "A's $E3 reflected data messages counted as drop_unknown_session +$(delta L1 L0 drop_unknown_session)"
[[ $(($(drops_total L1) - $(drops_total L0))) == "$EALL" ]] || die "$EALL reflected, $(($(drops_total L1) - $(drops_total L0))) drops"
[[ $(delta L1 L0 responses_sent) == 0 ]] || die "A answered its own initiation ($(delta L1 L0 responses_sent) responses sent)"
[[ $(delta L1 L0 handshakes) == 0 ]] || die "A completed a handshake with itself"
[[ $TUN1 == "$TUN0" ]] || die "$((TUN1 - TUN0)) reflected packets reached A's TUN device"
RESULTS+=("$(printf '%-26s reflected %5d: reflected +%d (initiations), unknown_session +%d (data), answered 0, tun rx +0' "live, to A" "$EALL" "$E1" "$E3")")
pass "live reflection: $E1 of A's initiations and $E3 of its data messages came back; all refused, none answered"

step "B comes back: the tunnel works"
start_daemon "$NS_B" "${ARGS_B[@]}"
PID_B=$DAEMON_PID
t0=$(now_ms)
wait_for 15 ns_ping "$NS_A" 10.99.0.2 || die "no tunnel after B came back"
info "tunnel back $(since "$t0") s after B restarted"
ping_report "$NS_B" 10.99.0.1 5
transfers_both_ways 4 5003
stop_daemon "$PID_A" TERM
stop_daemon "$PID_B" TERM

step "summary"
printf '    %s\n' "${RESULTS[@]}"
