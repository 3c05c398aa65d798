#!/usr/bin/env bash
# test_zero_alloc.sh — the data path allocates nothing per packet in the steady state.
#
# Both daemons of a static pair run with support/alloc_counter.cpp preloaded: every malloc,
# calloc, realloc, posix_memalign, aligned_alloc, memalign and valloc (so operator new and
# OpenSSL's allocations too) adds one to a counter in a file the test reads from outside,
# while the daemons run — nothing in the daemon has to cooperate, so neither its seccomp
# filter nor its blocked signals nor its way of exiting can hide a count.  After a warm-up
# (handshake, first packets, a short transfer each way), a long TCP transfer runs in one
# direction, then one in the other, then a flood of inner UDP sent as UDP GSO bursts; across
# each, both daemons' counters may grow by less than one allocation per 10,000 packets that
# crossed (for TCP the transfer's MSS-sized segments, a lower bound on packets whatever
# offloads do to them; for UDP the datagrams the daemons counted).  A per-packet, per-super-packet or even
# per-batch allocation breaks that by orders of magnitude.  An idle period is measured too
# (timers).  All of it with offloads on (default) and four threads per direction (the
# reading thread and three cipher workers, an ordered pipeline between them), and with
# --no-offload and one thread (no workers) on both ends.
#
# The preload library comes from $SQUTUN_ALLOC_COUNTER_LIB (CTest sets it), else from the
# build tree beside the binary (tests/libsqutun_alloc_counter.so), else it is compiled here.
# Sanitizer builds are skipped (exit 77): their runtime owns malloc.
#
# usage: bash test_zero_alloc.sh [path/to/squtun]
#        SQUTUN_ZERO_ALLOC_MIB=N sets the long transfer's size (default 256 MiB each way)
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
require_cmd od

if sanitized_build; then
  info "SKIP: $SQUTUN is a sanitizer build; its runtime replaces malloc, so allocations cannot be counted here"
  E2E_DONE_MSG="SKIPPED (sanitizer build)"
  exit 77
fi
[[ $("$SQUTUN" --help) == *--no-offload* ]] ||
  die "this squtun has no --no-offload option (squtun --help does not name it): the test runs with and without offloads"

LONG_MIB=${SQUTUN_ZERO_ALLOC_MIB:-256}
{ [[ $LONG_MIB =~ ^[0-9]+$ ]] && ((LONG_MIB >= 64)); } || die "SQUTUN_ZERO_ALLOC_MIB must be a number >= 64, not '$LONG_MIB'"
PER_PACKETS=10000 # at most one allocation per this many packets
ALLOC_MAGIC=3549768120413540691 # "SQALLOC1"

# ---------------------------------------------------------------------------------------------
step "the allocation counter library"
ALLOC_LIB=${SQUTUN_ALLOC_COUNTER_LIB:-}
if [[ -z $ALLOC_LIB && -f $(dirname "$SQUTUN")/tests/libsqutun_alloc_counter.so ]]; then
  ALLOC_LIB=$(dirname "$SQUTUN")/tests/libsqutun_alloc_counter.so
fi
if [[ -z $ALLOC_LIB ]]; then
  require_cmd c++
  ALLOC_LIB=$E2E_TMP/libsqutun_alloc_counter.so
  c++ -std=c++20 -O2 -fPIC -shared -o "$ALLOC_LIB" "$E2E_DIR/support/alloc_counter.cpp" ||
    die "compiling $E2E_DIR/support/alloc_counter.cpp failed"
  info "compiled $ALLOC_LIB"
fi
[[ -f $ALLOC_LIB ]] || die "allocation counter library not found: $ALLOC_LIB"
ALLOC_LIB=$(realpath "$ALLOC_LIB")
info "preloading $ALLOC_LIB"

# alloc_word FILE INDEX — one uint64 of a counter file (see alloc_counter.cpp for the layout)
alloc_word() { od -An -tu8 -j $(($2 * 8)) -N8 "$1" | tr -d ' '; }
alloc_total() { alloc_word "$1" 2; }
# alloc_kinds FILE — "malloc=… calloc=… …" (words 4..10)
alloc_kinds() {
  local names=(malloc calloc realloc posix_memalign aligned_alloc memalign valloc) i out=""
  for i in "${!names[@]}"; do out+="${names[$i]}=$(alloc_word "$1" $((i + 4))) "; done
  echo "$out"
}

# ---------------------------------------------------------------------------------------------
step "world: a static pair (10.99.0.1 <-> 10.99.0.2 over 198.18.0.1 <-> 198.18.0.2)"
netns_pair
KEY=$E2E_TMP/site.key
make_key "$KEY"
tun_up "$NS_A" tun0 10.99.0.1/30
tun_up "$NS_B" tun0 10.99.0.2/30
declare -A NS=([a]=$NS_A [b]=$NS_B) IN=([a]=10.99.0.1 [b]=10.99.0.2) PID=() COUNTER=() PIDFILE=()
MSS=$((TUN_MTU - 40))
XPORT=5000
declare -a SUMMARY=()
note() { SUMMARY+=("$*"); info "$*"; }

# show_packets END — rx_packets + tx_packets of that daemon (`squtun show`; asked outside the
# measured windows, since answering it allocates)
show_packets() {
  local -A report
  snapshot report "${NS[$1]}" "${PIDFILE[$1]}"
  echo $((report[rx_packets] + report[tx_packets]))
}

# zero_xfer FROM TO MIB — MIB MiB of zeros over TCP, no files; the receiving tun0 must have
# delivered at least that many bytes
zero_xfer() {
  local from=$1 to=$2 mib=$3 rpid rx0 rx t0 secs
  XPORT=$((XPORT + 1))
  spawn helper "sink-$XPORT" "${NS[$to]}" socat -u "TCP-LISTEN:$XPORT,bind=${IN[$to]},reuseaddr" OPEN:/dev/null
  rpid=$SPAWN_PID
  wait_for 10 tcp_listening "${NS[$to]}" "$XPORT" || die "receiver socat did not listen on ${IN[$to]}:$XPORT"
  rx0=$(link_stat "${NS[$to]}" tun0 rx_bytes)
  t0=$(now_ms)
  ip netns exec "${NS[$from]}" timeout 180 socat -u "OPEN:/dev/zero,readbytes=$((mib * 1048576))" \
    "TCP:${IN[$to]}:$XPORT,connect-timeout=10" || die "sending $mib MiB $from -> $to failed or timed out"
  reap "$rpid" 60 || die "receiver socat still running 60 s after the sender finished"
  [[ $WAIT_STATUS == 0 ]] || die "receiver socat exited with status $WAIT_STATUS"
  secs=$(since "$t0")
  rx=$(($(link_stat "${NS[$to]}" tun0 rx_bytes) - rx0))
  ((rx >= mib * 1048576)) || die "$to's tun0 delivered only $rx bytes of a $mib MiB transfer"
  XFER_INFO="$mib MiB in $secs s, $(mbit_per_s "$mib" "$secs") Mbit/s"
}

# udp_flood FROM TO SECS — inner UDP for SECS seconds, as fast as a GSO sender goes: bursts of
# 32 x 1200-byte datagrams, each burst ONE send with UDP_SEGMENT (which tun0 takes whole when
# it has USO); the tunnel carries what it can, the rest is dropped before it
udp_flood() {
  local from=$1 to=$2 secs=$3 rpid
  XPORT=$((XPORT + 1))
  spawn helper "udp-sink-$XPORT" "${NS[$to]}" socat -u "UDP-RECV:$XPORT,bind=${IN[$to]}" OPEN:/dev/null
  rpid=$SPAWN_PID
  wait_for 10 udp_listening "${NS[$to]}" "$XPORT" || die "UDP sink did not listen on ${IN[$to]}:$XPORT"
  local sent
  sent=$(ip netns exec "${NS[$from]}" timeout $((secs + 20)) python3 - "${IN[$to]}" "$XPORT" "$secs" <<'PY'

import socket, sys, time
to, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_UDP, 103, 1200)  # UDP_SEGMENT
burst = bytes(range(256)) * 150  # 38400 bytes: 32 datagrams
end, n = time.monotonic() + secs, 0
while time.monotonic() < end:
    try:
        s.sendto(burst, (to, port))
        n += 1
    except OSError:  # ENOBUFS and the like: the queue to tun0 is full
        time.sleep(0.0005)
print(n * 32)
PY
) || die "UDP GSO sender $from -> $to failed"
  stop_helper "$rpid"
  XFER_INFO="UDP for $secs s, $sent datagrams sent in GSO bursts of 32"
}

# window CMD... — run CMD; both daemons' allocations across it (read while they run)
declare -A WIN=()
window() {
  local e
  local -A c0=() c1=()
  for e in a b; do c0[$e]=$(alloc_total "${COUNTER[$e]}"); done
  "$@"
  for e in a b; do c1[$e]=$(alloc_total "${COUNTER[$e]}"); done
  for e in a b; do WIN[$e]=$((c1[$e] - c0[$e])); done
}

run_mode() {
  local run=$1 e t0 p0a p0b pa pb segs dir from to limit
  local -a extra=("${@:2}")
  t0=$(now_ms)
  step "run '$run': both daemons ${extra[*]:-with offloads (default)}, allocation counter preloaded"
  for e in a b; do
    COUNTER[$e]=$E2E_TMP/$run-$e.count
    PIDFILE[$e]=$(pidfile_for "$run-$e")
    head -c 4096 /dev/zero >"${COUNTER[$e]}"
  done
  DAEMON_PREFIX=(env "LD_PRELOAD=$ALLOC_LIB" "SQUTUN_ALLOC_COUNTER=${COUNTER[a]}")
  start_daemon "$NS_A" --pidfile "${PIDFILE[a]}" -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$KEY" "${extra[@]}"
  PID[a]=$DAEMON_PID
  DAEMON_PREFIX=(env "LD_PRELOAD=$ALLOC_LIB" "SQUTUN_ALLOC_COUNTER=${COUNTER[b]}")
  start_daemon "$NS_B" --pidfile "${PIDFILE[b]}" -l 7777 -p 198.18.0.1 -r 7778 -i tun0 -k "$KEY" "${extra[@]}"
  PID[b]=$DAEMON_PID
  DAEMON_PREFIX=()
  wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "[$run] no ping through the tunnel within 10 s"
  for e in a b; do
    [[ $(alloc_word "${COUNTER[$e]}" 0) == "$ALLOC_MAGIC" ]] ||
      die "[$run] the allocation counter was not loaded into daemon $e (no magic in ${COUNTER[$e]})"
    [[ $(alloc_word "${COUNTER[$e]}" 1) == "${PID[$e]}" ]] ||
      die "[$run] counter file of $e names pid $(alloc_word "${COUNTER[$e]}" 1), not the daemon's ${PID[$e]}"
    # Setup allocates (strings, OpenSSL, threads): a counter that saw none is not counting.
    (($(alloc_total "${COUNTER[$e]}") >= 20)) ||
      die "[$run] daemon $e made only $(alloc_total "${COUNTER[$e]}") allocations in its setup: the counter is not counting"
    info "[$run] daemon $e (pid ${PID[$e]}): $(alloc_total "${COUNTER[$e]}") allocations during setup ($(alloc_kinds "${COUNTER[$e]}"))"
  done

  # Warm-up: whatever is allocated lazily on first use is allocated now.
  ping_report "$NS_A" 10.99.0.2 3
  zero_xfer a b 16
  zero_xfer b a 16
  info "[$run] warmed up: $(alloc_total "${COUNTER[a]}") / $(alloc_total "${COUNTER[b]}") allocations in total so far (A / B)"

  # Idle: timers only.
  window sleep 2 # the idle period is what is measured
  note "[$run] idle 2 s: A +${WIN[a]}, B +${WIN[b]} allocations"

  for dir in "a b" "b a"; do
    read -r from to <<<"$dir"
    p0a=$(show_packets a)
    p0b=$(show_packets b)
    window zero_xfer "$from" "$to" "$LONG_MIB"
    pa=$(($(show_packets a) - p0a))
    pb=$(($(show_packets b) - p0b))
    segs=$((LONG_MIB * 1048576 / MSS))
    limit=$((segs / PER_PACKETS))
    note "[$run] $from -> $to $XFER_INFO: >= $segs data packets (MSS $MSS); daemon datagrams A $pa, B $pb; allocations A +${WIN[a]}, B +${WIN[b]} (limit: under $limit, 1 per $PER_PACKETS packets)"
    for e in a b; do
      ((WIN[$e] * PER_PACKETS < segs)) ||
        die "[$run] daemon $e made ${WIN[$e]} heap allocations while $segs packets crossed ($from -> $to): the data path allocates per packet (or per batch); now $(alloc_kinds "${COUNTER[$e]}")"
    done
  done
  p0a=$(show_packets a)
  p0b=$(show_packets b)
  window udp_flood a b 3
  pa=$(($(show_packets a) - p0a))
  pb=$(($(show_packets b) - p0b))
  note "[$run] a -> b $XFER_INFO: daemon datagrams A $pa, B $pb; allocations A +${WIN[a]}, B +${WIN[b]}"
  ((pa >= 5 * PER_PACKETS && pb >= 5 * PER_PACKETS)) || die "[$run] too few UDP packets crossed to judge ($pa / $pb)"
  for e in a b; do
    local p=$pa
    [[ $e == b ]] && p=$pb
    ((WIN[$e] * PER_PACKETS < p)) ||
      die "[$run] daemon $e made ${WIN[$e]} heap allocations for $p UDP datagrams: the data path allocates per packet (or per batch); now $(alloc_kinds "${COUNTER[$e]}")"
  done
  pass "[$run] both daemons, both directions, TCP and UDP: fewer than 1 allocation per $PER_PACKETS packets"
  stop_daemon "${PID[a]}" TERM
  stop_daemon "${PID[b]}" TERM
  note "[$run] whole run $(since "$t0") s"
}

run_mode on --threads 4
run_mode off --no-offload --threads 1

step "measured"
printf '    %s\n' "${SUMMARY[@]}"
