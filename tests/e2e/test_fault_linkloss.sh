#!/usr/bin/env bash
# ctest: long (two 30 s link outages)
# test_fault_linkloss.sh — the underlay link goes down for 30 s while pings
# run through the tunnel, then comes back: traffic must resume within 5 s of the link's return.
#
# `ip link set veth0 down` in one namespace (the veth peer loses its carrier too, so both ends
# see the link go); pings every 200 ms both ways with timestamps (ping -D).  Measured and
# printed: the time from `ip link set veth0 up` to the first reply in each direction, the
# length of the outage seen by the pings, and what the daemons counted meanwhile (their sends
# fail: udp_send drops; handshake retries).  Checked: no reply while the link is down (the
# outage is real), first reply each way within 5 s of the link's return, the daemons never
# restarted, then a sha256-checked transfer each way.
#   1. static pair (both -p), link down in A's namespace
#   2. passive B, active A (-p, -a 2), link down in B's namespace
#
# usage: bash test_fault_linkloss.sh [path/to/squtun]
# shellcheck disable=SC2034  # arrays filled by name (snapshot) look unused to shellcheck
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/e2e/attack_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/attack_lib.sh"
e2e_init "$@"
attack_init

DOWN_SECS=${DOWN_SECS:-30}
RESUME_LIMIT=5
netns_pair
tunnel_ends
PORT=5000

# link_case TAG LABEL DOWN_NS — ARGS_A / ARGS_B
link_case() {
  local tag=$1 label=$2 down_ns=$3 t_down t_up ra rb gap pa pb la lb
  local -A a0 a1 b0 b1
  step "$label"
  start_pair "${ARGS_B[@]}" --pidfile "$PF_B" -- "${ARGS_A[@]}" --pidfile "$PF_A"
  spawn helper "ping-a-$tag" "$NS_A" ping -D -n -i 0.2 -W 1 10.99.0.2
  pa=$SPAWN_PID la=$SPAWN_LOG
  spawn helper "ping-b-$tag" "$NS_B" ping -D -n -i 0.2 -W 1 10.99.0.1
  pb=$SPAWN_PID lb=$SPAWN_LOG
  t0=$(now_ms)
  got_reply() { [[ -n $(ping_first_reply_after "$1" "$t0") ]]; }
  { wait_for 5 got_reply "$la" && wait_for 5 got_reply "$lb"; } || die "$label: the pings do not pass before the link goes down"
  snapshot a0 "$NS_A" "$PF_A"
  snapshot b0 "$NS_B" "$PF_B"
  ip -n "$down_ns" link set veth0 down
  t_down=$(now_ms)
  info "$label: veth0 down in $down_ns for $DOWN_SECS s"
  sleep "$DOWN_SECS" # the outage under test
  ip -n "$down_ns" link set veth0 up
  t_up=$(now_ms)
  replied_after_up() { [[ -n $(ping_first_reply_after "$1" "$t_up") ]]; }
  wait_for $((RESUME_LIMIT + 5)) replied_after_up "$la" || die "$label: no reply A -> B within $((RESUME_LIMIT + 5)) s of the link's return"
  wait_for $((RESUME_LIMIT + 5)) replied_after_up "$lb" || die "$label: no reply B -> A within $((RESUME_LIMIT + 5)) s of the link's return"
  ra=$(ping_first_reply_after "$la" "$t_up")
  rb=$(ping_first_reply_after "$lb" "$t_up")
  stop_helper "$pa" INT
  stop_helper "$pb" INT
  gap=$(ping_gap "$la" "$t_down" "$t_up")
  snapshot a1 "$NS_A" "$PF_A"
  snapshot b1 "$NS_B" "$PF_B"
  info "$label: link back: first reply A -> B after $ra s, B -> A after $rb s; no reply for $gap s of the ${DOWN_SECS} s outage"
  info "$label: meanwhile A: initiations +$(delta a1 a0 initiations_sent), handshakes +$(delta a1 a0 handshakes), drops $(drops_delta_line a1 a0)"
  info "$label: meanwhile B: initiations +$(delta b1 b0 initiations_sent), handshakes +$(delta b1 b0 handshakes), drops $(drops_delta_line b1 b0)"
  awk -v g="$gap" -v d="$DOWN_SECS" 'BEGIN { exit !(g >= d - 1) }' ||
    die "$label: pings were answered during the outage (longest gap only $gap s); the link was not down"
  awk -v a="$ra" -v b="$rb" -v l="$RESUME_LIMIT" 'BEGIN { exit !(a <= l && b <= l) }' ||
    die "$label: traffic resumed only after $ra s (A -> B) and $rb s (B -> A); the limit is $RESUME_LIMIT s"
  { proc_alive "$PID_A" && proc_alive "$PID_B"; } || die "$label: a daemon died during the outage"
  PORT=$((PORT + 1))
  tcp_transfer "$NS_A" "$NS_B" 10.99.0.2 "$PORT" 4
  PORT=$((PORT + 1))
  tcp_transfer "$NS_B" "$NS_A" 10.99.0.1 "$PORT" 4
  RESULTS+=("$(printf '%-40s outage %6s s; resumed %s s (A->B), %s s (B->A) after the link came back' "$label" "$gap" "$ra" "$rb")")
  pass "$label: traffic back $ra s / $rb s after the link returned (limit $RESUME_LIMIT s)"
  stop_daemon "$PID_A" TERM
  stop_daemon "$PID_B" TERM
}

ARGS_A=(-v -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$KEY")
ARGS_B=(-v -l 7777 -p 198.18.0.1 -r 7778 -i tun0 -k "$KEY")
link_case static "static pair, link down in A" "$NS_A"

ARGS_A=(-v -l 7778 -p 198.18.0.2 -r 7777 -a 2 -i tun0 -k "$KEY")
ARGS_B=(-v -l 7777 -i tun0 -k "$KEY")
link_case passive "passive B, active A -a 2, link down in B" "$NS_B"

step "summary (limit $RESUME_LIMIT s after the link returns)"
printf '    %s\n' "${RESULTS[@]}"
