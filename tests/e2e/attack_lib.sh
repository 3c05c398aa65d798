# shellcheck shell=bash disable=SC2034,SC2004  # globals are read by the sourcing tests; assoc-array keys need $k
# tests/e2e/attack_lib.sh — helpers shared by the attack and fault tests (test_attack_*.sh,
# test_fault_*.sh), sourced after lib.sh:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   source "$(dirname "${BASH_SOURCE[0]}")/attack_lib.sh"
#
# Every daemon gets its own pid file (--pidfile "$(pidfile_for NAME)"), so that its control
# socket (beside the pid file) does not collide with the other daemon's and `squtun show` can
# ask each one; show_counter reads one line of that report.  attack.py (beside this file)
# captures and sends raw datagrams.

ATTACK_PY=$E2E_DIR/attack.py
PYTHON=""

attack_init() {
  require_cmd python3
  PYTHON=$(command -v python3)
  [[ -f $ATTACK_PY ]] || die "attack.py not found beside the tests ($ATTACK_PY)"
}

# pidfile_for NAME — a distinct pid file in the test's temp dir (socket: NAME.sock)
pidfile_for() { echo "$E2E_TMP/$1.pid"; }

# show NS PIDFILE [IFNAME] — `squtun show` of the daemon whose pid file is PIDFILE
show() { ip netns exec "$1" "$SQUTUN" show "${3:-tun0}" --pidfile "$2"; }

# show_counter NS PIDFILE NAME — one value of the report (e.g. drop_replay, peer, session)
show_counter() {
  local out v
  out=$(show "$1" "$2") || die "squtun show (pid file $2) failed"
  v=$(sed -n "s/^$3: //p" <<<"$out")
  [[ -n $v ]] || die "squtun show has no '$3' line:"$'\n'"$out"
  printf '%s\n' "$v"
}

# snapshot VAR NS PIDFILE — the whole report into the associative array VAR (declared -gA)
snapshot() {
  local -n _snap=$1
  local out k v
  [[ $(declare -p "$1" 2>/dev/null) == "declare -A"* ]] || die "snapshot: $1 is not an associative array (declare -A it)"
  out=$(show "$2" "$3") || die "squtun show (pid file $3) failed"
  _snap=()
  while IFS= read -r line; do
    k=${line%%: *}
    v=${line#*: }
    _snap["$k"]=$v
  done <<<"$out"
  [[ -n ${_snap[drop_malformed]:-} ]] || die "squtun show gave no counters:"$'\n'"$out"
}

# delta AFTER BEFORE NAME — AFTER[NAME] - BEFORE[NAME]
delta() {
  local -n _a=$1 _b=$2
  echo $((${_a[$3]} - ${_b[$3]}))
}

# drops_total VAR — the sum of every drop_* counter in snapshot VAR
drops_total() {
  local -n _s=$1
  local k sum=0
  for k in "${!_s[@]}"; do
    [[ $k == drop_* ]] && sum=$((sum + _s[$k]))
  done
  echo "$sum"
}

# drops_line VAR — "name=value ..." of the non-zero drop counters of snapshot VAR
drops_line() {
  local -n _s=$1
  local k out=""
  for k in $(printf '%s\n' "${!_s[@]}" | sort); do
    [[ $k == drop_* && ${_s[$k]} != 0 ]] && out+="${k#drop_}=${_s[$k]} "
  done
  echo "${out:-none}"
}

# drops_delta_line AFTER BEFORE — "name=+delta ..." of the drop counters that moved
drops_delta_line() {
  local -n _a=$1 _b=$2
  local k d out=""
  for k in $(printf '%s\n' "${!_a[@]}" | sort); do
    [[ $k == drop_* ]] || continue
    d=$((_a[$k] - _b[$k]))
    [[ $d != 0 ]] && out+="${k#drop_}=+$d "
  done
  echo "${out:-none}"
}

# rss_kib PID — VmRSS in KiB
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# cpu_ticks PID — utime + stime of all its threads, in clock ticks
cpu_ticks() {
  local stat
  stat=$(cat "/proc/$1/stat") || return 1
  stat=${stat##*) }
  # after "comm)": field 3 is state; utime and stime are fields 14 and 15 of the whole line
  awk '{print $12 + $13}' <<<"$stat"
}
CLK_TCK=$(getconf CLK_TCK)

# tun_rx NS [IF] — packets the daemon wrote into the TUN device (its rx_packets)
tun_rx() { link_stat "$1" "${2:-tun0}" rx_packets; }

# udp_in PID — UDP datagrams taken (delivered + dropped at the socket) in PID's namespace
udp_in() {
  "$PYTHON" "$ATTACK_PY" udpstats "$1" | "$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); print(d["in_datagrams"] + d["in_errors"])'
}

# sniff_start NS IFACE OUT [filters...] — capture in NS (helper process), wait until it is
# bound; sets SNIFF_PID
SNIFF_PID=""
sniff_start() {
  local ns=$1 ifn=$2 out=$3 ready
  shift 3
  ready=$out.ready
  rm -f "$ready"
  spawn helper "sniff-$(basename "$out")" "$ns" "$PYTHON" "$ATTACK_PY" sniff "$ifn" "$out" --ready "$ready" "$@"
  SNIFF_PID=$SPAWN_PID
  wait_for 10 test -e "$ready" || die "the capture on $ns/$ifn did not start"
}

# sniff_stop PID OUT — end the capture and check it lost nothing; prints its summary
sniff_stop() {
  local pid=$1 out=$2 summary drops
  stop_helper "$pid" TERM
  summary=$(tail -n 1 "$out")
  [[ $summary == *summary* ]] || die "capture $out has no summary line (the sniffer did not exit cleanly)"
  drops=$("$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])["summary"]["kernel_drops"])' "$summary")
  [[ $drops == 0 ]] || die "the capture $out lost $drops frames; it cannot prove silence"
}

# captured OUT [jq-like python condition] — number of captured datagrams (optionally matching
# a Python expression over the record r, e.g. 'r["dir"] == "out"')
captured() {
  "$PYTHON" - "$1" "${2:-True}" <<'EOF'
import json, sys
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "summary" in r:
        continue
    if eval(sys.argv[2], {}, {"r": r}):
        n += 1
print(n)
EOF
}

# ping_loss_pct OUTPUT — packet loss percentage from ping's summary (e.g. "0", "0.5")
ping_loss_pct() { sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' <<<"$1" | tail -n 1; }

# sent_total NS PIDFILE — everything the daemon has sent: data, keepalives, initiations, responses
sent_total() {
  local -A _st
  snapshot _st "$1" "$2"
  echo $((_st[tx_packets] + _st[keepalives_sent] + _st[initiations_sent] + _st[responses_sent]))
}

# wait_quiet SECS NS PIDFILE [NS PIDFILE...] — wait (at most 30 s) until none of the daemons
# has sent anything for SECS seconds: the tunnel is idle, no timer is about to fire
wait_quiet() {
  local secs=$1 deadline since_ms now sum last=""
  shift
  deadline=$(($(now_ms) + 30000))
  since_ms=$(now_ms)
  while (($(now_ms) < deadline)); do
    sum=""
    local i
    for ((i = 1; i <= $#; i += 2)); do
      local ns=${!i} j=$((i + 1))
      sum+="$(sent_total "$ns" "${!j}") "
    done
    now=$(now_ms)
    if [[ $sum != "$last" ]]; then
      last=$sum
      since_ms=$now
    elif ((now - since_ms >= secs * 1000)); then
      return 0
    fi
    sleep 0.2
  done
  return 1
}

# udp_read PID — UDP datagrams the sockets of PID's namespace handed to their reader
# (InDatagrams: read by the daemon; datagrams dropped on a full socket buffer are not in it)
udp_read() {
  "$PYTHON" "$ATTACK_PY" udpstats "$1" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["in_datagrams"])'
}

# ping_first_reply_after LOG EPOCH_MS — seconds (3 decimals) from EPOCH_MS to the first reply
# that `ping -D` logged in LOG after it; empty if none
ping_first_reply_after() {
  "$PYTHON" - "$1" "$2" <<'PYEOF'
import re, sys
t = int(sys.argv[2]) / 1000
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"\[(\d+\.\d+)\] \d+ bytes from", line)
    if m and float(m.group(1)) > t:
        print("%.3f" % (float(m.group(1)) - t))
        break
PYEOF
}

# ping_gap LOG FROM_MS TO_MS — the longest time (s) without a reply that `ping -D` logged in
# LOG, between FROM_MS and TO_MS (epoch ms)
ping_gap() {
  "$PYTHON" - "$1" "$2" "$3" <<'PYEOF'
import re, sys
lo, hi = int(sys.argv[2]) / 1000, int(sys.argv[3]) / 1000
ts = [lo]
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"\[(\d+\.\d+)\] \d+ bytes from", line)
    if m and lo < float(m.group(1)) < hi:
        ts.append(float(m.group(1)))
ts.append(hi)
print("%.3f" % max(b - a for a, b in zip(ts, ts[1:])))
PYEOF
}

# sanitized_build — the binary under test links AddressSanitizer or UBSan: it runs several times
# slower, and ASan's allocator keeps freed memory in quarantine (VmRSS grows with every
# allocation, leak or not), so performance and memory bounds mean nothing for it
sanitized_build() { ldd "$SQUTUN" 2>/dev/null | grep -qE 'lib(a|ub)san'; }

# tunnel_ends — for the pair NS_A / NS_B: the site key KEY, tun0 10.99.0.1/30 at A and
# 10.99.0.2/30 at B, each end's pid file (PF_A, PF_B) and an empty RESULTS for the summary
tunnel_ends() {
  KEY=$E2E_TMP/site.key
  make_key "$KEY"
  tun_up "$NS_A" tun0 10.99.0.1/30
  tun_up "$NS_B" tun0 10.99.0.2/30
  PF_A=$(pidfile_for a)
  PF_B=$(pidfile_for b)
  RESULTS=()
}

# transfers_both_ways MIB PORT — sha256-checked MIB MiB through the tunnel A -> B on PORT, then
# B -> A on PORT+1: how every attack and fault test shows the tunnel still works
transfers_both_ways() {
  tcp_transfer "$NS_A" "$NS_B" 10.99.0.2 "$2" "$1"
  tcp_transfer "$NS_B" "$NS_A" 10.99.0.1 "$(($2 + 1))" "$1"
}
