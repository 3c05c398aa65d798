#!/usr/bin/env bash
# test_attack_wrongkey.sh — a peer with another key gets no answer and leaves no state behind.
#
# A runs the real protocol (-p B, -a 1, pinging through its tunnel so it keeps initiating)
# under a key of its own; B runs under the site key.
#   1. passive B (no -p): over A's first 4 initiations (one every 2 s, each retry a new one)
#      B sends nothing at all (capture on the link: no datagram from B), counts every one of
#      A's initiations as bad_mac (exactly: B's drop_bad_mac == A's initiations on the link),
#      and keeps no state: `squtun show` says peer (none yet), session down, handshakes 0,
#      responses_sent 0; nothing reaches its TUN device.  A never completes a handshake.
#   2. static B (-p A): B initiates to A itself, so the capture sees B's initiations, but never
#      a response or data; neither end answers the other (responses_sent 0 on both), both
#      count the other's initiations as bad_mac, no handshake, session down.
# After each, the wrong-key A is replaced by the real A (site key): the tunnel comes up at
# once, and sha256-checked transfers cross it both ways.  Beside passive B's live session with
# the real A, a wrong-key end (another port and TUN device in A's namespace, -a 1) initiates
# to B: B counts its initiations as bad_mac, keeps the real A as its peer (`squtun show`, its
# log) and still reaches A.
#
# usage: bash test_attack_wrongkey.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/e2e/attack_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/attack_lib.sh"
e2e_init "$@"
attack_init

netns_pair
tunnel_ends
WRONG=$E2E_TMP/wrong.key
make_key "$WRONG"
cmp -s "$KEY" "$WRONG" && die "two --genkey runs gave the same key"

# wrong_key_case NAME B_ARGS... — B with the site key, A with the wrong one
wrong_key_case() {
  local name=$1
  shift
  local -A sa sb
  local watch=$E2E_TMP/watch-$name.jsonl tun0
  step "$name: B under the site key, A under another key"
  start_b -v -l 7777 -i tun0 -k "$KEY" --pidfile "$PF_B" "$@"
  tun0=$(tun_rx "$NS_B")
  sniff_start "$NS_A" veth0 "$watch"
  local watch_pid=$SNIFF_PID
  start_daemon "$NS_A" -v -l 7778 -p 198.18.0.2 -r 7777 -a 1 -i tun0 -k "$WRONG" --pidfile "$PF_A"
  local pid_a=$DAEMON_PID
  spawn helper "ping-$name" "$NS_A" ping -n -i 0.5 -W 1 10.99.0.2
  local ping_pid=$SPAWN_PID
  # an observation period: A initiates at once and every 2 s after
  several_initiations() { (($(show_counter "$NS_A" "$PF_A" initiations_sent) >= 4)); }
  wait_for 15 several_initiations || die "$name: the wrong-key A sent fewer than 4 initiations in 15 s"
  stop_helper "$ping_pid" INT
  snapshot sa "$NS_A" "$PF_A"
  stop_daemon "$pid_a" TERM
  sniff_stop "$watch_pid" "$watch"
  snapshot sb "$NS_B" "$PF_B"
  local from_a from_b
  from_a=$(captured "$watch" "r['src'] == '198.18.0.1'")
  from_b=$(captured "$watch" "r['src'] == '198.18.0.2'")
  info "$name: A (wrong key): session ${sa[session]}, handshakes ${sa[handshakes]}, initiations_sent ${sa[initiations_sent]}, responses_sent ${sa[responses_sent]}; drops $(drops_line sa)"
  info "$name: B: peer ${sb[peer]}, session ${sb[session]}, handshakes ${sb[handshakes]}, responses_sent ${sb[responses_sent]}, initiations_sent ${sb[initiations_sent]}; drops $(drops_line sb)"
  info "$name: on the link: $from_a datagram(s) from A ($(captured "$watch" "r['src'] == '198.18.0.1' and r['type'] == 1 and r['len'] == 64") initiations), $from_b from B ($(captured "$watch" "r['src'] == '198.18.0.2' and r['type'] == 1 and r['len'] == 64") initiations)"
  [[ ${sa[handshakes]} == 0 && ${sa[session]} == down && ${sa[responses_sent]} == 0 ]] ||
    die "$name: the wrong-key A completed or answered a handshake"
  [[ $(captured "$watch" "r['src'] == '198.18.0.1' and not (r['type'] == 1 and r['len'] == 64)") == 0 ]] ||
    die "$name: the wrong-key A sent something other than initiations"
  [[ ${sb[drop_bad_mac]} == "$from_a" ]] ||
    die "$name: A sent $from_a initiations, B counted ${sb[drop_bad_mac]} bad_mac drops ($(drops_line sb))"
  [[ ${sb[handshakes]} == 0 && ${sb[session]} == down ]] || die "$name: B completed a handshake with a wrong-key peer"
  [[ ${sb[responses_sent]} == 0 ]] || die "$name: B answered the wrong-key peer (${sb[responses_sent]} responses)"
  [[ ${sb[rx_packets]} == 0 && $(tun_rx "$NS_B") == "$tun0" ]] || die "$name: packets of the wrong-key peer reached B's TUN device"
  [[ $(captured "$watch" "r['src'] == '198.18.0.2' and not (r['type'] == 1 and r['len'] == 64)") == 0 ]] ||
    die "$name: B sent something other than its own initiations:"$'\n'"$(head -n 5 "$watch")"
  if [[ $# -eq 0 ]]; then
    [[ $from_b == 0 ]] || die "$name: passive B sent $from_b datagram(s) to the wrong-key peer"
    [[ ${sb[peer]} == "(none yet)" ]] || die "$name: passive B adopted the wrong-key peer as ${sb[peer]}"
    [[ ${sb[initiations_sent]} == 0 ]] || die "$name: passive B initiated to an unauthenticated address"
  fi
  if [[ $# -gt 0 ]]; then
    ((sa[drop_bad_mac] > 0)) || die "$name: A did not count B's initiations as bad_mac"
  fi
  RESULTS+=("$(printf '%-8s A sent %2d initiations; B: peer %s, session %s, handshakes %s, responses 0, bad_mac %s; B sent %d (initiations only)' \
    "$name" "$from_a" "${sb[peer]}" "${sb[session]}" "${sb[handshakes]}" "${sb[drop_bad_mac]}" "$from_b")")
  pass "$name: no answer and no state for the wrong-key peer (B's bad_mac ${sb[drop_bad_mac]})"

  step "$name: the real A (site key) connects at once"
  connect_a -v -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$KEY" --pidfile "$PF_A"
  [[ $(show_counter "$NS_B" "$PF_B" peer) == 198.18.0.1:7778 ]] || die "$name: B's peer is not the real A"
  transfers_both_ways 4 5001
  if [[ $# -eq 0 ]]; then
    wrong_key_beside_session "$name"
  fi
  stop_daemon "$PID_A" TERM
  stop_daemon "$PID_B" TERM
}

# wrong_key_beside_session NAME — during passive B's live session with the real A, a wrong-key
# end (another port and TUN device in A's namespace, -a 1) initiates to B: B counts its
# initiations as bad_mac and keeps the real A as its peer
wrong_key_beside_session() {
  local name=$1 bad0
  step "$name: a wrong-key end beside the live session"
  bad0=$(show_counter "$NS_B" "$PF_B" drop_bad_mac)
  start_daemon "$NS_A" -v -l 7791 -p 198.18.0.2 -r 7777 -a 1 -i "sqw$$" -k "$WRONG" --pidfile "$(pidfile_for wrong)"
  local pid_w=$DAEMON_PID
  bad_mac_above() { (($(show_counter "$NS_B" "$PF_B" drop_bad_mac) > $1)); }
  wait_for 10 bad_mac_above $((bad0 + 1)) || die "$name: B did not count the wrong-key end's initiations as bad_mac"
  stop_daemon "$pid_w" TERM
  ping_report "$NS_B" 10.99.0.1 5
  [[ $(show_counter "$NS_B" "$PF_B" peer) == 198.18.0.1:7778 ]] ||
    die "$name: B's peer is $(show_counter "$NS_B" "$PF_B" peer), not the real A, after the wrong-key end"
  if grep -i 'peer is now' "$LOG_B" | grep -q ':7791'; then
    die "$name: B adopted the wrong-key end as its peer: $(grep -i 'peer is now' "$LOG_B")"
  fi
  pass "$name: B counted the wrong-key end's initiations (bad_mac $bad0 -> $(show_counter "$NS_B" "$PF_B" drop_bad_mac)) and kept the real A"
}

wrong_key_case passive
wrong_key_case static -p 198.18.0.1 -r 7778

step "summary"
printf '    %s\n' "${RESULTS[@]}"
