#!/usr/bin/env bash
# ctest: serial (junk at full speed, memory growth bound)
# test_attack_junk.sh — junk of every size, from the peer's address and from others, at a
# passive end before it has a peer and at both a passive and a static end of a live tunnel.
#
#   A 198.18.0.1 (+ .3, .4 for the attacker)  ----veth0----  B 198.18.0.2 (+ .5, .6)
#   squtun -l 7778 -p 198.18.0.2 -r 7777                      squtun -l 7777 (passive)
#
# 0. To passive B before A runs, from 198.18.0.1:9999, three of each: 1 byte, a 4-byte
#    initiation, data with its reserved bytes set, an unknown type, well-sized initiation,
#    response, keepalive and data messages with random contents, 1400 random bytes.  Checked:
#    B answers none (capture on its veth over the junk and 2.5 s after), lives, counts each
#    as exactly one drop (malformed and bad_mac among them), adopts no peer (`squtun show`:
#    peer (none yet), session down; B cannot ping A).  Then A starts and the tunnel comes up.
# 1. To passive B: every UDP payload size 0..65507 once, in random order (65508 datagrams,
#    2 GiB), plus 2000 each of well-sized initiations (64 bytes), responses (60) and
#    keepalive-sized data (32), rotating over the sources 198.18.0.1:7778 (A's own address and
#    port: the learned peer), 198.18.0.3 and 198.18.0.4 (random ports).  One datagram in five
#    is random bytes; the others carry plausible headers (type 1, 2 or 3, reserved bytes zero)
#    and random rest, so wrong MACs; one in five names B's live session index with a counter
#    inside the replay window, so it costs B an AEAD open (bad_mac) and must not move the
#    window.
# 2. To static A: 20000 datagrams of random sizes 0..65507 plus 1000 of each well-sized kind,
#    from B's address and port 198.18.0.2:7777 and from 198.18.0.5 and .6 (wrong_source).
# The sender (attack.py junk, raw sockets, so it can use the ports the daemons bound) keeps a
# bounded number of datagrams in flight, judged from the target namespace's UDP counters, so
# the daemon's socket buffer does not overflow and every datagram reaches the daemon.
# Checked for each target: the daemon lives; it counts exactly one drop for every datagram its
# socket took (sum of drop_* == UDP InDatagrams + InErrors of its namespace); nothing reaches
# its TUN device (rx_packets of tun0 and of the daemon unchanged); it sends nothing (capture on
# its veth over the junk and 2.5 s after; its sent counters); it keeps its peer and its session;
# its resident memory (VmRSS) grows by less than 2 MiB from after a warm-up burst (which lets
# the preallocated receive buffers become resident) to the end (not enforced for a sanitizer
# build, whose allocator quarantine keeps freed memory resident).  Then sha256-checked transfers
# cross the tunnel both ways.
#
# usage: bash test_attack_junk.sh [path/to/squtun]
# shellcheck disable=SC2034  # arrays filled by name (snapshot) look unused to shellcheck
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/e2e/attack_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/attack_lib.sh"
e2e_init "$@"
attack_init

RSS_LIMIT_KIB=2048
# ASan's quarantine keeps freed memory resident, so under a sanitizer VmRSS grows with any
# allocation (the daemon allocates per handshake MAC check, inside OpenSSL): reported only.
SANITIZED=0
if sanitized_build; then
  SANITIZED=1
  info "sanitizer build: the VmRSS bound is reported, not enforced"
fi
netns_pair
ip -n "$NS_A" addr add 198.18.0.3/24 dev veth0
ip -n "$NS_A" addr add 198.18.0.4/24 dev veth0
ip -n "$NS_B" addr add 198.18.0.5/24 dev veth0
ip -n "$NS_B" addr add 198.18.0.6/24 dev veth0
tunnel_ends

start_b -v -l 7777 -i tun0 -k "$KEY" --pidfile "$PF_B"

# junk_kind NAME — datagram NAME on stdout: malformed ones, and well-sized messages of each type
# with random contents
junk_kind() {
  case $1 in
    1-byte) printf '\x01' ;;
    short-initiation) printf '\x01\x00\x00\x00' ;;
    reserved-bytes-set) printf '\x03\x01\x02\x03'; head -c 60 /dev/urandom ;;
    unknown-type) printf '\x07\x00\x00\x00'; head -c 60 /dev/urandom ;;
    initiation-64) printf '\x01\x00\x00\x00'; head -c 60 /dev/urandom ;;
    response-60) printf '\x02\x00\x00\x00'; head -c 56 /dev/urandom ;;
    keepalive-32) printf '\x03\x00\x00\x00'; head -c 28 /dev/urandom ;;
    data-116) printf '\x03\x00\x00\x00'; head -c 112 /dev/urandom ;;
    random-1400) head -c 1400 /dev/urandom ;;
  esac
}
JUNK_KINDS=(1-byte short-initiation reserved-bytes-set unknown-type initiation-64 response-60 keepalive-32 data-116 random-1400)

step "0. junk of every kind to passive B before it has a peer"
declare -A B0 B1
snapshot B0 "$NS_B" "$PF_B"
sniff_start "$NS_B" veth0 "$E2E_TMP/watch-no-peer.jsonl" --src 198.18.0.2
WATCH_PID=$SNIFF_PID
for kind in "${JUNK_KINDS[@]}"; do
  for try in 1 2 3; do
    # from a file, so socat reads it in one piece and sends one datagram
    junk_kind "$kind" >"$E2E_TMP/junk.bin"
    ip netns exec "$NS_A" socat -u "OPEN:$E2E_TMP/junk.bin" "UDP:198.18.0.2:7777,sourceport=9999,reuseaddr" ||
      die "sending junk '$kind' (try $try) failed"
  done
done
SENT=$((${#JUNK_KINDS[@]} * 3))
all_dropped() { snapshot B1 "$NS_B" "$PF_B"; (($(drops_total B1) - $(drops_total B0) >= SENT)); }
wait_for 10 all_dropped || die "$SENT junk datagrams sent, B counted $(($(drops_total B1) - $(drops_total B0))) drops ($(drops_delta_line B1 B0))"
sleep 2.5 # observation window after the junk (longer than the 2 s passive-keepalive timer)
sniff_stop "$WATCH_PID" "$E2E_TMP/watch-no-peer.jsonl"
snapshot B1 "$NS_B" "$PF_B"
info "B's drops for $SENT junk datagrams: $(drops_delta_line B1 B0)"
proc_alive "$PID_B" || die "B died on junk"
[[ $(captured "$E2E_TMP/watch-no-peer.jsonl") == 0 ]] || die "B answered junk:"$'\n'"$(head -n 5 "$E2E_TMP/watch-no-peer.jsonl")"
[[ $(($(drops_total B1) - $(drops_total B0))) == "$SENT" ]] || die "$SENT junk datagrams, $(($(drops_total B1) - $(drops_total B0))) drops ($(drops_delta_line B1 B0))"
for c in drop_malformed drop_bad_mac; do
  (($(delta B1 B0 "$c") > 0)) || die "$c did not rise ($(drops_delta_line B1 B0))"
done
[[ ${B1[peer]} == "(none yet)" && ${B1[session]} == down ]] || die "junk gave B a peer (${B1[peer]}) or a session (${B1[session]})"
! ns_ping "$NS_B" 10.99.0.1 || die "B reached 10.99.0.1 with no real peer"
RESULTS+=("$(printf '%-12s %6d sent, no peer yet: no answer, no peer adopted; drops %s' no-peer-B "$SENT" "$(drops_delta_line B1 B0)")")
pass "${#JUNK_KINDS[@]} kinds of junk x3 before any peer: no answer, B alive, every one counted, no peer adopted"

step "the real A connects"
connect_a -v -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$KEY" --pidfile "$PF_A"

# live_session NS SRC — "INDEX_HEX COUNTER" of the newest data message SRC sends (captured in NS
# while pinging): the receiver's live session index, and a counter just behind its window's top
live_session() {
  local ns=$1 src=$2 to=$3 cap=$E2E_TMP/live-$2.jsonl
  sniff_start "$ns" veth0 "$cap" --payload --src "$src"
  local pid=$SNIFF_PID
  ping_report "$ns" "$to" 3 >/dev/null
  sniff_stop "$pid" "$cap"
  "$PYTHON" - "$cap" <<'EOF'
import json, struct, sys
last = None
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "hex" in r and r["type"] == 3 and r["len"] >= 32:
        last = bytes.fromhex(r["hex"])
if last is None:
    sys.exit("no data message captured")
print("%08x %d" % (struct.unpack("<I", last[4:8])[0], struct.unpack("<Q", last[8:16])[0]))
EOF
}

# junk_at LABEL TNS TPID TPF TADDR:TPORT PEER SENDER_NS JUNK_ARGS... — the checks above
junk_at() {
  local label=$1 tns=$2 tpid=$3 tpf=$4 to=$5 peer=$6 sns=$7
  shift 7
  local -A before after
  local watch=$E2E_TMP/watch-${label//[^A-Za-z0-9]/_}.jsonl out rss0 rss1 ticks0 ticks1 udp0 tun0 tun1 sent0 sent1 t0 secs
  # warm-up: a burst of junk, unpaced, fills whole receive batches once
  local froms=() a
  for a in "$@"; do [[ ${a} == *.*.*.*:* ]] && froms+=(--from "$a"); done
  ip netns exec "$sns" "$PYTHON" "$ATTACK_PY" junk --to "$to" "${froms[@]}" --count 400 --seed 99 >/dev/null ||
    die "$label: warm-up junk failed"
  settled() { local u; u=$(udp_in "$tpid"); [[ $u == "${_last_u:-}" ]] || { _last_u=$u; return 1; }; }
  _last_u=""
  wait_for 10 settled || true
  # the tunnel idle (a passive keepalive answers the last ping 2 s after it), so that what the
  # daemon reads from now on is the junk
  wait_quiet 3 "$NS_A" "$PF_A" "$NS_B" "$PF_B" || die "$label: the tunnel does not go idle"
  rss0=$(rss_kib "$tpid")
  snapshot before "$tns" "$tpf"
  udp0=$(udp_read "$tpid")
  tun0=$(tun_rx "$tns")
  sent0=$(sent_total "$tns" "$tpf")
  ticks0=$(cpu_ticks "$tpid")
  sniff_start "$tns" veth0 "$watch" --src "${to%:*}"
  local watch_pid=$SNIFF_PID
  t0=$(now_ms)
  out=$(ip netns exec "$sns" timeout 300 "$PYTHON" "$ATTACK_PY" junk --to "$to" "$@" --pace-pid "$tpid") ||
    die "$label: the junk sender failed"
  secs=$(since "$t0")
  info "$label: sent $out"
  # every datagram the daemon read must be counted as a drop: wait until the counters caught up
  local sent taken drops stats
  balanced() {
    local u
    u=$(udp_read "$tpid")
    snapshot after "$tns" "$tpf"
    taken=$((u - udp0))
    drops=$(($(drops_total after) - $(drops_total before)))
    # (a stray keepalive of the idle tunnel would be read too, and is not junk)
    ((drops + $(delta after before keepalives_received) == taken))
  }
  wait_for 10 balanced ||
    die "$label: the daemon took $taken datagrams but counted $drops drops ($(drops_delta_line after before))"
  sleep 2.5 # observation window after the junk: nothing may follow it either
  sniff_stop "$watch_pid" "$watch"
  proc_alive "$tpid" || die "$label: the daemon died under junk"
  ticks1=$(cpu_ticks "$tpid")
  rss1=$(rss_kib "$tpid")
  balanced || die "$label: the daemon took $taken datagrams but counted $drops drops ($(drops_delta_line after before))"
  tun1=$(tun_rx "$tns")
  sent1=$(sent_total "$tns" "$tpf")
  sent=$("$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])["sent"])' "$out")
  stats=$("$PYTHON" "$ATTACK_PY" udpstats "$tpid")
  info "$label: $sent sent in $secs s; the daemon's socket took $taken ($stats); drops $(drops_delta_line after before)"
  info "$label: VmRSS $rss0 -> $rss1 KiB ($((rss1 - rss0)) KiB); CPU $(((ticks1 - ticks0) * 1000 / CLK_TCK)) ms"
  ((taken >= 20000)) || die "$label: only $taken junk datagrams reached the daemon (at least 20000 must)"
  ((taken * 100 >= sent * 95)) || die "$label: only $taken of $sent junk datagrams reached the daemon"
  [[ $(captured "$watch") == 0 ]] || die "$label: the daemon sent $(captured "$watch") datagram(s) during the junk:"$'\n'"$(head -n 5 "$watch")"
  [[ $sent1 == "$sent0" ]] || die "$label: the daemon's sent counters moved ($sent0 -> $sent1)"
  [[ $tun1 == "$tun0" ]] || die "$label: $((tun1 - tun0)) junk packets reached the TUN device"
  [[ $(delta after before rx_packets) == 0 ]] || die "$label: the daemon delivered junk"
  [[ $(delta after before handshakes) == 0 ]] || die "$label: a junk handshake completed"
  [[ ${after[peer]} == "$peer" ]] || die "$label: the daemon's peer changed: ${before[peer]} -> ${after[peer]}"
  [[ ${after[session]} == up ]] || die "$label: the session went down"
  ((SANITIZED == 1 || rss1 - rss0 < RSS_LIMIT_KIB)) || die "$label: VmRSS grew by $((rss1 - rss0)) KiB (limit $RSS_LIMIT_KIB KiB)"
  RESULTS+=("$(printf '%-12s %6d sent, %6d taken, %d s; RSS %+d KiB; drops %s' "$label" "$sent" "$taken" "${secs%.*}" \
    "$((rss1 - rss0))" "$(drops_delta_line after before)")")
  pass "$label: $taken junk datagrams all dropped and counted, nothing delivered or sent, RSS +$((rss1 - rss0)) KiB"
}

step "1. junk of every size 0..65507 to passive B, from A's address and port and from others"
read -r IDX_B CTR_B < <(live_session "$NS_A" 198.18.0.1 10.99.0.2)
info "B's live session index 0x$IDX_B (A's counter $CTR_B)"
junk_at passive-B "$NS_B" "$PID_B" "$PF_B" 198.18.0.2:7777 198.18.0.1:7778 "$NS_A" \
  --from 198.18.0.1:7778 --from 198.18.0.3:0 --from 198.18.0.4:0 --all-sizes --extra-handshakes 2000 \
  --live-index "$IDX_B" --live-counter "$CTR_B" --seed 1
ping_report "$NS_B" 10.99.0.1 5

step "2. junk to static A, from B's address and port and from others"
read -r IDX_A CTR_A < <(live_session "$NS_B" 198.18.0.2 10.99.0.1)
info "A's live session index 0x$IDX_A (B's counter $CTR_A)"
junk_at static-A "$NS_A" "$PID_A" "$PF_A" 198.18.0.1:7778 198.18.0.2:7777 "$NS_B" \
  --from 198.18.0.2:7777 --from 198.18.0.5:0 --from 198.18.0.6:0 --count 20000 --extra-handshakes 1000 \
  --live-index "$IDX_A" --live-counter "$CTR_A" --seed 2

step "the tunnel still works"
ping_report "$NS_A" 10.99.0.2 5
transfers_both_ways 8 5001
stop_daemon "$PID_A" TERM
stop_daemon "$PID_B" TERM

step "summary"
printf '    %s\n' "${RESULTS[@]}"
