# shellcheck shell=bash disable=SC2034  # globals are read by the sourcing tests
# tests/e2e/attack_lib.sh — what the attack and fault tests (test_attack_*.sh, test_fault_*.sh)
# need beyond lib.sh: attack.py (beside this file), which captures and sends raw datagrams and
# reads a namespace's UDP counters, and the ping-timing helpers built on Python.  Sourced after
# lib.sh:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   source "$(dirname "${BASH_SOURCE[0]}")/attack_lib.sh"

ATTACK_PY=$E2E_DIR/attack.py
PYTHON=""

attack_init() {
  require_cmd python3
  PYTHON=$(command -v python3)
  [[ -f $ATTACK_PY ]] || die "attack.py not found beside the tests ($ATTACK_PY)"
}

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

# drops_line_of NS PIDFILE — drops_line of the daemon's report right now
drops_line_of() {
  local -A _now
  snapshot _now "$1" "$2"
  drops_line _now
}

# nft_table NS NAME RULE — a table with one rule in the input hook of NS
nft_table() {
  ip netns exec "$1" nft -f - <<NFT || die "cannot install nftables table $2 in $1"
table ip $2 {
  chain in {
    type filter hook input priority 0; policy accept;
    $3
  }
}
NFT
}
nft_drop_table() { ip netns exec "$1" nft delete table ip "$2" || die "cannot remove nftables table $2"; }

# tunnel_b_then_a — passive B (ARGS_B, port 7777), then A (ARGS_A) once B listens, and a
# first ping through the tunnel; sets PID_B and PID_A
tunnel_b_then_a() {
  start_daemon "$NS_B" "${ARGS_B[@]}"
  PID_B=$DAEMON_PID
  wait_for 10 udp_listening "$NS_B" 7777 || die "B does not listen"
  start_daemon "$NS_A" "${ARGS_A[@]}"
  PID_A=$DAEMON_PID
  wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "no tunnel"
}
