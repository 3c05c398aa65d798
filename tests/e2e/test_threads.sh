#!/usr/bin/env bash
# ctest: serial (four daemons' worth of threads, and a stream that must not lose a datagram)
# test_threads.sh — --threads N: the packets of a tunnel are sealed and opened by N workers
# per direction, yet arrive complete and in the order they were sent.
#
# For --threads 1, 2 and 4, with offloads on (default) and with --no-offload, on a static pair:
#   - the daemon runs the threads --threads asks for (their names in /proc: besides the
#     outbound and inbound threads, N - 1 workers seal1... and N - 1 open1...);
#   - 20,000 sequence-numbered UDP datagrams of varied sizes, sent in bursts of 32 (every
#     other burst as one UDP GSO send), arrive A -> B and B -> A, every one, none twice, none
#     before one sent ahead of it (seqcheck.py);
#   - 16 MiB of TCP each way arrive intact (sha256).
# Without --threads, each direction has a thread per online CPU (at most 16). `squtun show`
# reports the number in effect.
# A bad --threads value is refused with a message naming the flag and the range.
#
# usage: bash test_threads.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
require_cmd python3 socat

SEQCHECK=$E2E_DIR/seqcheck.py
[[ -f $SEQCHECK ]] || die "seqcheck.py not found beside the test ($SEQCHECK)"
COUNT=20000
PORT=6000
declare -a SUMMARY=()

step "a bad --threads is refused, naming the flag and the range"
for bad in 0 17 two; do
  if out=$("$SQUTUN" --threads "$bad" -l 7777 -i tun0 -k /nonexistent 2>&1); then
    die "squtun accepted --threads $bad"
  fi
  [[ $out == *--threads* && $out == *"1 to 16"* ]] || die "--threads $bad: the error does not name the flag and its range: $out"
done
pass "--threads 0, 17 and 'two' refused: $out"

netns_pair
tunnel_ends
# A burst of the sender waits in tun0's queue until the daemon reads it; with both daemons and
# both ends of the stream on two shared cores the daemon can be off the CPU for tens of ms, and
# the default queue (500 packets) would drop datagrams before the tunnel ever saw them.
ip -n "$NS_A" link set tun0 txqueuelen 4000
ip -n "$NS_B" link set tun0 txqueuelen 4000

# thread_names PID — the names of the daemon's threads, sorted, one line
thread_names() { cat "/proc/$1/task/"*/comm 2>/dev/null | sort | tr '\n' ' '; }

# expect_threads PID N — the workers --threads N asks for beside the two reading threads
# (outbound and inbound, which seal and open too), and no more
expect_threads() {
  local pid=$1 n=$2 names seal open
  names=$(thread_names "$pid")
  seal=$(tr ' ' '\n' <<<"$names" | grep -c '^seal[0-9]*$' || true)
  open=$(tr ' ' '\n' <<<"$names" | grep -c '^open[0-9]*$' || true)
  ((seal == n - 1 && open == n - 1)) ||
    die "--threads $n runs $seal sealing and $open opening workers beside the reading threads, not $((n - 1)) each: $names"
  [[ $names == *outbound* && $names == *inbound* ]] || die "no outbound or inbound thread: $names"
}

# expect_shown NS PIDFILE N — `squtun show` reports the N threads each way
expect_shown() {
  local shown
  shown=$(show_report "$1" "$2" | awk -F': ' '$1 == "threads" { print $2 }')
  [[ $shown == "$3" ]] || die "squtun show ($2) reports threads '$shown', not $3"
}

# where_lost — every place a datagram could have been dropped, for a failure message
where_lost() {
  # shellcheck disable=SC2034  # filled and read by name: snapshot and drops_line take a nameref
  local -A snap_a snap_b
  snapshot snap_a "$NS_A" "$PF_A"
  snapshot snap_b "$NS_B" "$PF_B"
  local ns out
  out="daemon drops A: $(drops_line snap_a) B: $(drops_line snap_b);"
  for ns in "$NS_A" "$NS_B"; do
    out+=" $ns tun0 tx_dropped $(link_stat "$ns" tun0 tx_dropped) rx_dropped $(link_stat "$ns" tun0 rx_dropped),"
    out+=" veth0 tx_dropped $(link_stat "$ns" veth0 tx_dropped) rx_dropped $(link_stat "$ns" veth0 rx_dropped),"
    out+=" UDP $(ip netns exec "$ns" nstat -az Udp6RcvbufErrors UdpRcvbufErrors UdpSndbufErrors UdpInErrors 2>/dev/null | awk 'NR > 1 { printf "%s=%s ", $1, $2 }');"
  done
  echo "$out"
}

# sequence_stream FROM_NS TO_NS TO_ADDR LABEL — COUNT numbered datagrams, judged by seqcheck.py
sequence_stream() {
  local from=$1 to=$2 addr=$3 label=$4 out ready rpid res
  PORT=$((PORT + 1))
  out=$E2E_TMP/seq-$PORT.json ready=$E2E_TMP/seq-$PORT.ready
  spawn helper "seq-recv-$PORT" "$to" python3 "$SEQCHECK" recv --bind "$addr" --port "$PORT" --count "$COUNT" \
    --out "$out" --ready "$ready" --deadline 60 --idle 3
  rpid=$SPAWN_PID
  wait_for 10 test -f "$ready" || die "[$label] seqcheck receiver did not start in $to"
  ip netns exec "$from" timeout 60 python3 "$SEQCHECK" send --to "$addr" --port "$PORT" --count "$COUNT" \
    --burst 32 --gap-ms 3 --gso 1200 || die "[$label] seqcheck sender ($from -> $addr) failed"
  reap "$rpid" 30 || die "[$label] seqcheck receiver still running 30 s after the sender finished"
  [[ $WAIT_STATUS == 0 && -f $out ]] || die "[$label] seqcheck receiver failed (status $WAIT_STATUS)"
  res=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["received"], d["missing"], d["duplicates"], d["out_of_order"], d["first_out_of_order"])' "$out")
  read -r received missing dups ooo first <<<"$res"
  ((missing == 0 && dups == 0 && ooo == 0)) ||
    die "[$label] $from -> $addr: $received of $COUNT datagrams, $missing missing, $dups twice, $ooo out of order (first: $first); $(where_lost)"
  info "[$label] $from -> $addr: all $COUNT datagrams once and in order"
}

step "without --threads: a thread per online CPU in each direction, at most 16"
default_threads=$(nproc)
((default_threads > 16)) && default_threads=16
start_pair --pidfile "$PF_B" -l 7777 -p 198.18.0.1 -r 7778 -i tun0 -k "$KEY" -- \
  --pidfile "$PF_A" -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$KEY"
expect_threads "$PID_A" "$default_threads"
expect_threads "$PID_B" "$default_threads"
expect_shown "$NS_A" "$PF_A" "$default_threads"
pass "$(nproc) online CPUs: $default_threads threads each way ($(thread_names "$PID_A"))"
stop_daemon "$PID_A" TERM
stop_daemon "$PID_B" TERM

for offload in on off; do
  for threads in 1 2 4; do
    label="threads $threads, offloads $offload"
    extra=(--threads "$threads")
    [[ $offload == off ]] && extra+=(--no-offload)
    step "$label"
    start_pair --pidfile "$PF_B" -l 7777 -p 198.18.0.1 -r 7778 -i tun0 -k "$KEY" "${extra[@]}" -- \
      --pidfile "$PF_A" -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$KEY" "${extra[@]}"
    expect_threads "$PID_A" "$threads"
    expect_threads "$PID_B" "$threads"
    expect_shown "$NS_B" "$PF_B" "$threads"
    sequence_stream "$NS_A" "$NS_B" 10.99.0.2 "$label"
    sequence_stream "$NS_B" "$NS_A" 10.99.0.1 "$label"
    PORT=$((PORT + 2))
    transfers_both_ways 16 "$PORT"
    SUMMARY+=("$label: $COUNT datagrams each way in order, 16 MiB each way intact ($TRANSFER_MBPS Mbit/s B -> A); threads of A: $(thread_names "$PID_A")")
    stop_daemon "$PID_A" TERM
    stop_daemon "$PID_B" TERM
    pass "$label"
  done
done

step "measured"
printf '    %s\n' "${SUMMARY[@]}"
