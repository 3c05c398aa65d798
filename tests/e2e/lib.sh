# shellcheck shell=bash disable=SC2034  # globals here are read by the sourcing tests
# tests/e2e/lib.sh — helpers sourced by squtun's end-to-end tests, scripts/demo.sh and
# bench/run.sh.
#
#   source "$(dirname "$0")/lib.sh"
#   e2e_init "$@"            # root check, binary path ($1, default build/squtun), temp dir, traps
#   netns_pair               # NS_A / NS_B joined by veth0: 198.18.0.1/24 <-> 198.18.0.2/24
#   make_key "$E2E_TMP/key"
#   tun_up "$NS_A" tun0 10.99.0.1/30
#   start_daemon "$NS_A" -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$E2E_TMP/key"
#   wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "no ping through the tunnel"
#
# or, for the usual pair (tun0 10.99.0.1/30 at A, 10.99.0.2/30 at B, pid files PF_A and PF_B):
#   tunnel_ends
#   start_pair -l 7777 -i tun0 -k "$KEY" --pidfile "$PF_B" -- \
#     -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$KEY" --pidfile "$PF_A"
#   show_counter "$NS_B" "$PF_B" peer
#
# Rules every helper keeps: processes are tracked and killed by their recorded PID only (never
# by name); every namespace, user, file and device setting a test creates is undone by the EXIT
# trap; every loop is bounded; conditions are polled with a deadline, never slept on.
# Addresses: underlay 198.18.0.0/15 (RFC 2544 benchmarking range), tunnel-inner 10.x.

set -euo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$E2E_DIR/../.." && pwd)
TEST_NAME=$(basename "${0%.sh}")

SQUTUN=""            # absolute path of the binary under test
E2E_TMP=""           # per-run temp dir (mode 0711 so unprivileged daemons can reach files in it)
E2E_LOGS=""          # daemon and helper logs, dumped on failure
E2E_SAN=""           # sanitizer reports (log_path), world-writable sticky dir
TUN_MTU=""           # $SQUTUN -m 1500
NS_A="" NS_B=""

declare -a E2E_PIDS=()          # our background children, killed in cleanup
declare -A E2E_KIND=()          # pid -> daemon|helper
declare -A E2E_LABEL=()         # pid -> label (log file stem)
declare -a E2E_FOREIGN=()       # detached daemons (not our children): pid list
declare -a E2E_NETNS=()         # namespaces we created
declare -a E2E_ATEXIT=()        # shell-quoted commands run (in reverse) by cleanup
E2E_SEQ=0
E2E_DONE_MSG="ALL PASSED"      # printed by cleanup on success
E2E_SOFT_FAIL=0                 # set by cleanup checks that fail the run after the fact

SPAWN_PID="" SPAWN_LOG=""       # results of spawn / start_daemon
DAEMON_PID="" DAEMON_LOG=""
WAIT_STATUS=""                  # exit status collected by reap/stop_daemon

# ---------------------------------------------------------------------------------------------
# messages

now_ms() { local t=${EPOCHREALTIME//[!0-9]/}; echo $((10#$t / 1000)); }
_ts() { printf '%(%H:%M:%S)T' -1; }
info() { printf '[%s %s] %s\n' "$(_ts)" "$TEST_NAME" "$*"; }
step() { printf '\n[%s %s] === %s\n' "$(_ts)" "$TEST_NAME" "$*"; }
pass() { printf '[%s %s] PASS: %s\n' "$(_ts)" "$TEST_NAME" "$*"; }
die() {
  printf '[%s %s] FAIL: %s\n' "$(_ts)" "$TEST_NAME" "$*" >&2
  exit 1
}
# elapsed seconds (3 decimals) since a now_ms timestamp
since() { local d=$(($(now_ms) - $1)); printf '%d.%03d' $((d / 1000)) $((d % 1000)); }

# ---------------------------------------------------------------------------------------------
# setup and teardown

# Not root: exit 77 (CTest's conventional "skipped" code when SKIP_RETURN_CODE 77 is set).
require_root() {
  if [[ $(id -u) -ne 0 ]]; then
    printf '[%s] SKIP: end-to-end tests must run as root (they create network namespaces, TUN devices, users)\n' "$TEST_NAME" >&2
    exit 77
  fi
}

require_cmd() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || die "required command '$c' not found (scripts/test.sh and bench/run.sh install what they need)"
  done
}

# e2e_init [BINARY] — what a test starts with: root, the commands the helpers use, a temp dir
# with the cleanup traps, and the binary under test (default build/squtun)
e2e_init() {
  require_root
  require_cmd ip ping socat sha256sum ss setpriv timeout
  e2e_workspace
  use_binary "${1:-$REPO_ROOT/build/squtun}"
}

# e2e_workspace — E2E_TMP, E2E_LOGS, E2E_SAN, and the traps that run cleanup
e2e_workspace() {
  E2E_TMP=$(mktemp -d "/tmp/squtun-e2e.$TEST_NAME.XXXXXX")
  chmod 0711 "$E2E_TMP"
  E2E_LOGS=$E2E_TMP/logs
  E2E_SAN=$E2E_TMP/san
  mkdir -p "$E2E_LOGS" "$E2E_SAN"
  chmod 1777 "$E2E_SAN"
  # Sanitizer reports go to files, so reports from detached or dropped-privilege daemons (whose
  # stderr is gone) are still seen; cleanup fails the test if any appear.  Ignored by binaries
  # built without sanitizers.
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$E2E_SAN/asan"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$E2E_SAN/ubsan"
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# use_binary BINARY — SQUTUN (absolute) and TUN_MTU ($SQUTUN -m 1500)
use_binary() {
  [[ -f $1 && -x $1 ]] || die "squtun binary not found or not executable: $1 (build it first)"
  SQUTUN=$(realpath "$1")
  TUN_MTU=$("$SQUTUN" -m 1500) || die "'$SQUTUN -m 1500' failed"
  [[ $TUN_MTU =~ ^[0-9]+$ ]] || die "'squtun -m 1500' printed '$TUN_MTU', not a number"
  info "binary: $SQUTUN   temp: $E2E_TMP   tun mtu: $TUN_MTU"
}

# atexit CMD ARGS... — run at cleanup, last registered first
atexit() {
  local q
  printf -v q '%q ' "$@"
  E2E_ATEXIT+=("$q")
}

_forget_pid() {
  local p keep=()
  for p in "${E2E_PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  E2E_PIDS=("${keep[@]}")
  keep=()
  for p in "${E2E_FOREIGN[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  E2E_FOREIGN=("${keep[@]}")
}

_dump_logs() {
  local f
  echo "----- logs of $TEST_NAME ($E2E_LOGS) -----" >&2
  local n
  for f in "$E2E_LOGS"/*; do
    [[ -f $f ]] || continue
    n=25
    case $(basename "$f") in squtun* | launcher* | no-access*) n=150 ;; esac
    echo "----- $(basename "$f") (last $n lines) -----" >&2
    tail -n "$n" "$f" >&2
  done
  echo "----- end of logs -----" >&2
}

# _check_sanitizer_reports: any file in E2E_SAN or sanitizer text in a log fails the run.
_check_sanitizer_reports() {
  local f found=0
  for f in "$E2E_SAN"/*; do
    [[ -s $f ]] || continue
    found=1
    echo "----- sanitizer report $(basename "$f") -----" >&2
    head -n 120 "$f" >&2
  done
  if grep -lE 'ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer' \
    "$E2E_LOGS"/* >/dev/null 2>&1; then
    found=1
    echo "sanitizer errors in logs:" >&2
    grep -HE 'ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|runtime error:' "$E2E_LOGS"/* >&2 || true
  fi
  return $found
}

cleanup() {
  local rc=$? pid ns i status
  set +e
  trap - EXIT INT TERM
  # 1. our children: daemons get SIGTERM and must exit cleanly; helpers just go.
  for pid in "${E2E_PIDS[@]}"; do
    if [[ ${E2E_KIND[$pid]:-helper} == daemon ]]; then
      if proc_alive "$pid"; then
        _stop_pid "$pid" TERM 10 2>/dev/null
        status=$WAIT_STATUS
        if [[ $status != 0 && $status != 130 && $status != 143 ]]; then
          echo "cleanup: daemon ${E2E_LABEL[$pid]} (pid $pid) exited with status $status after SIGTERM (expected 0)" >&2
          E2E_SOFT_FAIL=1
        fi
      else
        wait "$pid" 2>/dev/null
        status=$?
        echo "cleanup: daemon ${E2E_LABEL[$pid]} (pid $pid) had already exited with status $status" >&2
        E2E_SOFT_FAIL=1
      fi
    else
      _stop_pid "$pid" TERM 5 2>/dev/null
    fi
  done
  E2E_PIDS=()
  # 2. detached daemons we recorded (not our children)
  for pid in "${E2E_FOREIGN[@]}"; do
    kill_foreign "$pid"
  done
  E2E_FOREIGN=()
  # 3. safety net: anything still running inside a namespace we created is ours; kill it by PID.
  for ns in "${E2E_NETNS[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      echo "cleanup: leftover process $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)) in $ns, killing it" >&2
      kill_foreign "$pid"
    done
  done
  # 4. registered undo actions, last first
  for ((i = ${#E2E_ATEXIT[@]} - 1; i >= 0; i--)); do
    eval "${E2E_ATEXIT[$i]}" || echo "cleanup: '${E2E_ATEXIT[$i]}' failed" >&2
  done
  # 5. namespaces (their veth and TUN devices go with them)
  for ns in "${E2E_NETNS[@]}"; do
    ip netns del "$ns" 2>/dev/null || echo "cleanup: could not delete netns $ns" >&2
  done
  # 6. verdict
  if [[ -n $E2E_TMP && -d $E2E_TMP ]]; then
    _check_sanitizer_reports || { echo "cleanup: sanitizer reported errors" >&2; E2E_SOFT_FAIL=1; }
    if [[ $rc -ne 0 || $E2E_SOFT_FAIL -ne 0 ]]; then
      _dump_logs
    fi
    rm -rf "$E2E_TMP"
  fi
  if [[ $rc -eq 0 && $E2E_SOFT_FAIL -ne 0 ]]; then
    rc=1
  fi
  if [[ $rc -eq 0 ]]; then
    printf '[%s %s] %s\n' "$(_ts)" "$TEST_NAME" "$E2E_DONE_MSG"
  else
    printf '[%s %s] FAILED (exit %d)\n' "$(_ts)" "$TEST_NAME" "$rc" >&2
  fi
  exit "$rc"
}

# ---------------------------------------------------------------------------------------------
# processes

# proc_alive PID — running (a zombie counts as gone)
proc_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != [ZX] ]]
}
proc_gone() { ! proc_alive "$1"; }

# proc_uid PID — effective uid from /proc/PID/status
proc_uids() { awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$1/status" 2>/dev/null; }
proc_gids() { awk '/^Gid:/ {print $2, $3, $4, $5}' "/proc/$1/status" 2>/dev/null; }
proc_capeff() { awk '/^CapEff:/ {print $2}' "/proc/$1/status" 2>/dev/null; }

# rss_kib PID — VmRSS in KiB
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# cpu_ticks PID — utime + stime of all its threads, in clock ticks (CLK_TCK a second)
cpu_ticks() {
  local stat
  stat=$(cat "/proc/$1/stat") || return 1
  stat=${stat##*) }
  # after "comm)": field 3 is state; utime and stime are fields 14 and 15 of the whole line
  awk '{print $12 + $13}' <<<"$stat"
}
CLK_TCK=$(getconf CLK_TCK)

# wait_for SECS CMD ARGS... — poll CMD every 0.1 s until it succeeds; 1 if SECS pass first.
wait_for() {
  local secs=$1 deadline i max
  shift
  deadline=$(($(now_ms) + secs * 1000))
  max=$((secs * 10 + 10))
  for ((i = 0; i < max; i++)); do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    (($(now_ms) < deadline)) || return 1
    sleep 0.1
  done
  return 1
}

# spawn KIND LABEL NS CMD ARGS... — background CMD in namespace NS ("-" = this one), stdout and
# stderr appended to $E2E_LOGS/LABEL.log; sets SPAWN_PID, SPAWN_LOG.  KIND: daemon|helper.
spawn() {
  local kind=$1 label=$2 ns=$3
  shift 3
  SPAWN_LOG=$E2E_LOGS/$label.log
  printf '### %s: %s\n' "$(_ts)" "$*" >>"$SPAWN_LOG"
  if [[ $ns == - ]]; then
    "$@" </dev/null >>"$SPAWN_LOG" 2>&1 &
  else
    ip netns exec "$ns" "$@" </dev/null >>"$SPAWN_LOG" 2>&1 &
  fi
  SPAWN_PID=$!
  E2E_PIDS+=("$SPAWN_PID")
  E2E_KIND[$SPAWN_PID]=$kind
  E2E_LABEL[$SPAWN_PID]=$label
}

# start_daemon NS ARGS... — "$SQUTUN -f ARGS" in NS as root; sets DAEMON_PID and DAEMON_LOG.
# `ip netns exec` execs (no fork), so the recorded PID is squtun's own.  DAEMON_PREFIX, if set,
# is an array put before the binary; it must exec too (e.g. env VAR=value), never fork.
DAEMON_PREFIX=()
start_daemon() {
  local ns=$1
  shift
  _own_files_only "$@"
  E2E_SEQ=$((E2E_SEQ + 1))
  spawn daemon "squtun-${ns##*-}-$E2E_SEQ" "$ns" "${DAEMON_PREFIX[@]}" "$SQUTUN" -f "$@"
  DAEMON_PID=$SPAWN_PID
  DAEMON_LOG=$SPAWN_LOG
  info "started squtun pid $DAEMON_PID in $ns: -f $*"
}

# _own_files_only ARGS... — a daemon's control socket sits beside its pid file, by default in
# /var/run/squtun, which the machine's own squtun uses too: a daemon of a test gets a pid file
# of the test's own (--pidfile, or a config file's pidfile), unless the test's header says that
# it changes the machine ("# ctest: machine").
_own_files_only() {
  local a
  grep -qE '^# ctest:.*\bmachine\b' "$0" && return 0
  for a in "$@"; do
    [[ $a == --pidfile || $a == --pidfile=* || $a == --config || $a == --config=* ]] && return 0
  done
  die "a daemon started without --pidfile would use the machine's /var/run/squtun (its control socket); give it --pidfile \"\$(pidfile_for NAME)\""
}

# start_daemon_as USER NS ARGS... — same, but as USER (setpriv execs: PID stays squtun's)
start_daemon_as() {
  local user=$1 ns=$2 gid
  shift 2
  _own_files_only "$@"
  gid=$(id -g "$user")
  E2E_SEQ=$((E2E_SEQ + 1))
  spawn daemon "squtun-${ns##*-}-$E2E_SEQ" "$ns" \
    setpriv --reuid="$user" --regid="$gid" --init-groups "$SQUTUN" -f "$@"
  DAEMON_PID=$SPAWN_PID
  DAEMON_LOG=$SPAWN_LOG
  info "started squtun pid $DAEMON_PID in $ns as $user: -f $*"
}

# _stop_pid PID SIG SECS — signal our child, wait up to SECS, SIGKILL if needed, reap.
_stop_pid() {
  local pid=$1 sig=$2 secs=$3
  WAIT_STATUS=""
  kill -s "$sig" "$pid" 2>/dev/null
  if ! wait_for "$secs" proc_gone "$pid"; then
    echo "process ${E2E_LABEL[$pid]:-$pid} (pid $pid) still running ${secs}s after SIG$sig; sending SIGKILL"
    kill -s KILL "$pid" 2>/dev/null
    wait_for 5 proc_gone "$pid"
    WAIT_STATUS=timeout
    wait "$pid" 2>/dev/null
  else
    wait "$pid" 2>/dev/null && WAIT_STATUS=0 || WAIT_STATUS=$?
  fi
  _forget_pid "$pid"
  return 0
}

# stop_daemon PID [SIG] — end a daemon we started; it must go within 10 s, and after TERM/INT
# exit cleanly (status 0, or the signal's 128+n if it re-raises).  Sets WAIT_STATUS.
stop_daemon() {
  local pid=$1 sig=${2:-TERM} t0
  t0=$(now_ms)
  proc_alive "$pid" || die "daemon ${E2E_LABEL[$pid]:-} (pid $pid) died before we stopped it"
  _stop_pid "$pid" "$sig" 10 2>/dev/null # (bash's "Killed" job notice is noise here)
  [[ $WAIT_STATUS != timeout ]] || die "daemon pid $pid did not exit within 10 s of SIG$sig"
  case $sig in
    TERM | INT)
      [[ $WAIT_STATUS == 0 || $WAIT_STATUS == 143 || $WAIT_STATUS == 130 ]] ||
        die "daemon pid $pid exited with status $WAIT_STATUS after SIG$sig (expected a clean exit)"
      ;;
  esac
  info "stopped squtun pid $pid with SIG$sig in $(since "$t0") s (exit status $WAIT_STATUS)"
}

# stop_helper PID [SIG] — end a helper (ping, socat, iperf3) we spawned; status not checked
stop_helper() { _stop_pid "$1" "${2:-TERM}" 5 2>/dev/null; }

# reap PID SECS — wait for our child to exit on its own; sets WAIT_STATUS; 1 on timeout.
reap() {
  local pid=$1 secs=$2
  WAIT_STATUS=""
  wait_for "$secs" proc_gone "$pid" || return 1
  wait "$pid" 2>/dev/null && WAIT_STATUS=0 || WAIT_STATUS=$?
  _forget_pid "$pid"
  return 0
}

# track_foreign PID — a detached daemon (not our child) that cleanup must end.
track_foreign() { E2E_FOREIGN+=("$1"); }
untrack_foreign() { _forget_pid "$1"; }

# kill_foreign PID — SIGTERM, then SIGKILL after 5 s; polls (cannot wait on a non-child).
kill_foreign() {
  local pid=$1
  proc_alive "$pid" || return 0
  kill -s TERM "$pid" 2>/dev/null
  if ! wait_for 5 proc_gone "$pid"; then
    kill -s KILL "$pid" 2>/dev/null
    wait_for 5 proc_gone "$pid" || echo "cleanup: pid $pid survived SIGKILL" >&2
  fi
  _forget_pid "$pid"
}

# ---------------------------------------------------------------------------------------------
# network namespaces

# netns_new SUFFIX — create and register "sq-$$-SUFFIX" with lo up; name in NETNS_NAME.
netns_new() {
  NETNS_NAME="sq-$$-$1"
  ip netns add "$NETNS_NAME" || die "ip netns add $NETNS_NAME failed"
  E2E_NETNS+=("$NETNS_NAME")
  # IPv4 only: no IPv6 router solicitations or MLD reports wandering through the tunnels
  # (they would be traffic the tests did not ask for, e.g. refreshing a NAT mapping).
  ip netns exec "$NETNS_NAME" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1 || true
  ip -n "$NETNS_NAME" link set lo up
}

# veth_link NS1 IF1 ADDR1 NS2 IF2 ADDR2 — veth pair between two namespaces, addresses, up.
veth_link() {
  local ns1=$1 if1=$2 a1=$3 ns2=$4 if2=$5 a2=$6
  ip -n "$ns1" link add "$if1" type veth peer name "$if2" netns "$ns2" || die "creating veth $ns1/$if1 <-> $ns2/$if2 failed"
  ip -n "$ns1" addr add "$a1" dev "$if1"
  ip -n "$ns2" addr add "$a2" dev "$if2"
  ip -n "$ns1" link set "$if1" up
  ip -n "$ns2" link set "$if2" up
}

# netns_pair — NS_A (198.18.0.1/24) and NS_B (198.18.0.2/24) joined by veth0.
netns_pair() {
  netns_new a
  NS_A=$NETNS_NAME
  netns_new b
  NS_B=$NETNS_NAME
  veth_link "$NS_A" veth0 198.18.0.1/24 "$NS_B" veth0 198.18.0.2/24
  wait_for 10 ns_ping "$NS_A" 198.18.0.2 || die "underlay veth $NS_A <-> $NS_B does not pass ping"
  info "namespaces $NS_A (198.18.0.1) and $NS_B (198.18.0.2) joined by veth0"
}

# nat_world [MASQUERADE_OPTIONS] — the NAT case: A behind router R, B outside (and passive):
#
#   A (behind NAT)            R (router, nftables masquerade)             B (public)
#   veth0 198.18.1.2/24 ---- veth0 198.18.1.1/24 | veth1 198.18.0.1/24 ---- veth0 198.18.0.2/24
#
# R masquerades what leaves by veth1 (table ip sqnat, chain post; e.g. "random" for a random
# port per mapping).  B has no route to 198.18.1.0/24, so it can only answer A through the
# address it learned from A's packets.  Sets NS_A, NS_R, NS_B.
nat_world() {
  local options=${1:-}
  require_cmd nft conntrack
  netns_new a
  NS_A=$NETNS_NAME
  netns_new r
  NS_R=$NETNS_NAME
  netns_new b
  NS_B=$NETNS_NAME
  veth_link "$NS_A" veth0 198.18.1.2/24 "$NS_R" veth0 198.18.1.1/24
  veth_link "$NS_R" veth1 198.18.0.1/24 "$NS_B" veth0 198.18.0.2/24
  ip -n "$NS_A" route add default via 198.18.1.1
  ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1
  ip netns exec "$NS_R" nft -f - <<EOF || die "could not install the NAT rules in the router namespace"
table ip sqnat {
  chain post {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "veth1" masquerade${options:+ $options}
  }
}
EOF
  wait_for 10 ns_ping "$NS_A" 198.18.0.2 || die "underlay: A cannot reach B through the NAT"
  if ip -n "$NS_B" route get 198.18.1.2 >/dev/null 2>&1; then
    die "B has a route to A's private address; the NAT case would prove nothing"
  fi
  info "underlay: A 198.18.1.2 -> NAT 198.18.0.1 -> B 198.18.0.2 (B has no route back to 198.18.1.0/24)"
}

# nat_port [SPORT] — the external (masqueraded) UDP port of A's flow from SPORT (default 7778)
# to B:7777, from R's conntrack table; empty if there is no such flow
nat_port() {
  ip netns exec "$NS_R" conntrack -L -p udp 2>/dev/null | awk -v sport="${1:-7778}" '
    /src=198\.18\.1\.2 / && / dport=7777 / && $0 ~ (" sport=" sport " ") {
      n = 0
      for (i = 1; i <= NF; i++) if ($i ~ /^dport=/ && ++n == 2) { sub("dport=", "", $i); print $i; exit }
    }'
}

ns_exec() {
  local ns=$1
  shift
  ip netns exec "$ns" "$@"
}

# ns_ping NS ADDR — one echo, 1 s timeout
ns_ping() { ip netns exec "$1" ping -n -q -c 1 -W 1 "$2" >/dev/null 2>&1; }

# link_stat NS IF COUNTER — e.g. rx_bytes, tx_packets
link_stat() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3"; }

# tun_rx NS [IF] — packets the daemon wrote into its TUN device (the device's rx_packets)
tun_rx() { link_stat "$1" "${2:-tun0}" rx_packets; }

# tcp_listening NS PORT
tcp_listening() { [[ -n $(ip netns exec "$1" ss -Hltn "sport = :$2") ]]; }

# udp_listening NS PORT
udp_listening() { [[ -n $(ip netns exec "$1" ss -Huan "sport = :$2") ]]; }

# route_dev NS ADDR — the device the kernel would send ADDR through
route_dev() { ip -n "$1" -o route get "$2" 2>/dev/null | sed -n 's/.* dev \([^ ]*\).*/\1/p'; }

# ---------------------------------------------------------------------------------------------
# squtun pieces

# make_key FILE [OWNER] — squtun --genkey into FILE, mode 0600
make_key() {
  local f=$1 owner=${2:-}
  (umask 077 && "$SQUTUN" --genkey >"$f") || die "squtun --genkey failed"
  chmod 600 "$f"
  if [[ -n $owner ]]; then
    chown "$owner:$(id -g "$owner")" "$f"
  fi
  grep -qE '^[0-9a-fA-F]{64}$' "$f" || die "squtun --genkey wrote something other than 64 hex digits: $(head -c 100 "$f")"
}

# tun_up NS IF ADDR/PREFIX [USER] — persistent TUN device (owned by USER), address, MTU, up
tun_up() {
  local ns=$1 ifn=$2 addr=$3 user=${4:-}
  if [[ -n $user ]]; then
    ip -n "$ns" tuntap add dev "$ifn" mode tun user "$user" || die "ip tuntap add $ifn (user $user) in $ns failed"
  else
    ip -n "$ns" tuntap add dev "$ifn" mode tun || die "ip tuntap add $ifn in $ns failed"
  fi
  tun_config "$ns" "$ifn" "$addr"
}

# tun_config NS IF ADDR/PREFIX — address, MTU, up on an existing (e.g. daemon-created) device
tun_config() {
  local ns=$1 ifn=$2 addr=$3
  ip -n "$ns" addr add "$addr" dev "$ifn" || die "ip addr add $addr dev $ifn in $ns failed"
  ip -n "$ns" link set dev "$ifn" mtu "$TUN_MTU" || die "setting mtu $TUN_MTU on $ifn in $ns failed"
  ip -n "$ns" link set dev "$ifn" up || die "ip link set $ifn up in $ns failed"
}

# link_exists NS IF
link_exists() { ip -n "$1" link show dev "$2" >/dev/null 2>&1; }
link_gone() { ! link_exists "$@"; }

# file_grew FILE SIZE — FILE is now larger than SIZE bytes
file_grew() { (($(stat -c %s "$1") > $2)); }

# usr1_counters PID LOG — SIGUSR1 to a daemon started with start_daemon; prints what it then
# logged (the counters line); fails if nothing arrives within 5 s
usr1_counters() {
  local pid=$1 log=$2 size0
  size0=$(stat -c %s "$log")
  kill -s USR1 "$pid" || return 1
  wait_for 5 file_grew "$log" "$size0" || return 1
  tail -c +"$((size0 + 1))" "$log"
}

# sanitized_build — the binary under test has AddressSanitizer or UBSan in it (linked statically
# or not): it runs several times slower, and ASan's allocator keeps freed memory in quarantine
# (VmRSS grows with every allocation, leak or not) and owns malloc, so performance, memory and
# allocation bounds mean nothing for it
sanitized_build() { LC_ALL=C grep -qa -e '__asan_init' -e '__ubsan_handle' "$SQUTUN"; }

# udp_bound NS PID — process PID holds a UDP socket in NS
udp_bound() { ip netns exec "$1" ss -Huanp | grep -qF "pid=$2,"; }

# ---------------------------------------------------------------------------------------------
# squtun's report: `squtun show` of a daemon started with --pidfile "$(pidfile_for NAME)", so
# that each daemon's control socket (beside its pid file) is its own

# pidfile_for NAME — a distinct pid file in the test's temp dir (socket: NAME.sock)
pidfile_for() { echo "$E2E_TMP/$1.pid"; }

# show_report NS PIDFILE [IFNAME] — `squtun show` of the daemon whose pid file is PIDFILE
show_report() { ip netns exec "$1" "$SQUTUN" show "${3:-tun0}" --pidfile "$2"; }

# show_counter NS PIDFILE NAME — one value of the report (e.g. drop_replay, peer, session)
show_counter() {
  local out v
  out=$(show_report "$1" "$2") || die "squtun show (pid file $2) failed"
  v=$(sed -n "s/^$3: //p" <<<"$out")
  [[ -n $v ]] || die "squtun show has no '$3' line:"$'\n'"$out"
  printf '%s\n' "$v"
}

# snapshot VAR NS PIDFILE — the whole report into the associative array VAR (declared -A)
snapshot() {
  local -n _snap=$1
  local out k v
  [[ $(declare -p "$1" 2>/dev/null) == "declare -A"* ]] || die "snapshot: $1 is not an associative array (declare -A it)"
  out=$(show_report "$2" "$3") || die "squtun show (pid file $3) failed"
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
# shellcheck disable=SC2004  # an associative array needs the $ of its key
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
# shellcheck disable=SC2004  # an associative array needs the $ of its key
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

# ---------------------------------------------------------------------------------------------
# the usual tunnel: A in NS_A (tun0 10.99.0.1/30) and B in NS_B (tun0 10.99.0.2/30)

# tunnel_ends — the site key KEY, both tun0 devices, each end's pid file (PF_A, PF_B) and an
# empty RESULTS for the summary
tunnel_ends() {
  KEY=$E2E_TMP/site.key
  make_key "$KEY"
  tun_up "$NS_A" tun0 10.99.0.1/30
  tun_up "$NS_B" tun0 10.99.0.2/30
  PF_A=$(pidfile_for a)
  PF_B=$(pidfile_for b)
  RESULTS=()
}

# start_b ARGS... — squtun ARGS in NS_B, returning once it has bound its UDP socket, so that
# A's first initiation finds it listening; sets PID_B and LOG_B
start_b() {
  start_daemon "$NS_B" "$@"
  PID_B=$DAEMON_PID LOG_B=$DAEMON_LOG
  wait_for 10 udp_bound "$NS_B" "$PID_B" || die "B (squtun pid $PID_B) has no UDP socket 10 s after it started"
}

# connect_a ARGS... — squtun ARGS in NS_A, returning once pings cross the tunnel both ways
# (B -> A also proves that a passive B learned A's address); sets PID_A and LOG_A
connect_a() {
  local t0
  start_daemon "$NS_A" "$@"
  PID_A=$DAEMON_PID LOG_A=$DAEMON_LOG
  t0=$(now_ms)
  wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "A cannot ping B (10.99.0.2) through the tunnel within 10 s of starting"
  wait_for 5 ns_ping "$NS_B" 10.99.0.1 || die "A pings B, but B cannot ping A (10.99.0.1) through the tunnel"
  info "tunnel up both ways $(since "$t0") s after A started"
}

# start_pair B_ARGS... -- A_ARGS... — start_b B_ARGS, then connect_a A_ARGS
start_pair() {
  local b_args=()
  while (($#)) && [[ $1 != -- ]]; do
    b_args+=("$1")
    shift
  done
  (($#)) || die "start_pair: no '--' between B's and A's arguments"
  shift
  start_b "${b_args[@]}"
  connect_a "$@"
}

# transfers_both_ways MIB PORT — sha256-checked MIB MiB through the tunnel A -> B on PORT, then
# B -> A on PORT+1
transfers_both_ways() {
  tcp_transfer "$NS_A" "$NS_B" 10.99.0.2 "$2" "$1"
  tcp_transfer "$NS_B" "$NS_A" 10.99.0.1 "$(($2 + 1))" "$1"
}

# ---------------------------------------------------------------------------------------------
# the machine's own state (tests that install: test_install.sh, test_deb.sh)

# set_aside PATH... — move each PATH that exists out of the way; put_back returns them.  They
# wait in /var/tmp, outside the temp dir that cleanup deletes: a put_back that fails (something
# is at the path again) must not lose them.
declare -A E2E_ASIDE=()
E2E_ASIDE_DIR=/var/tmp/squtun-e2e-$TEST_NAME-save.$$
set_aside() {
  local p
  for p in "$@"; do
    [[ -e $p || -L $p ]] || continue
    [[ -d $E2E_ASIDE_DIR ]] || mkdir -m 0700 "$E2E_ASIDE_DIR"
    E2E_ASIDE[$p]=$E2E_ASIDE_DIR/$(tr / _ <<<"$p")
    mv "$p" "${E2E_ASIDE[$p]}" || die "cannot move $p aside"
    info "moved the existing $p aside to ${E2E_ASIDE[$p]} (restored at exit)"
  done
}
put_back() {
  local p
  for p in "${!E2E_ASIDE[@]}"; do
    if [[ -e $p || -L $p ]]; then
      echo "cleanup: $p exists, so the saved one stays in ${E2E_ASIDE[$p]}" >&2
    else
      mkdir -p "$(dirname "$p")"
      mv "${E2E_ASIDE[$p]}" "$p" && info "restored $p"
    fi
  done
  if [[ -d $E2E_ASIDE_DIR ]]; then rmdir "$E2E_ASIDE_DIR"; fi
  return 0
}

# private_etc — from now on this test sees a copy-on-write view of the machine's /etc (the
# test must run in a mount namespace of its own): the users, groups and files it or what it
# installs makes there stay in the view and go with it, and the machine's /etc is untouched,
# whatever accounts it has. Called again, it starts a new view. Call it before registering the
# restores that must run inside the view: it is unmounted after them.
E2E_ETC_VIEW=""
private_etc() {
  [[ ${SQUTUN_E2E_PRIVATE_RUN:-} == 1 ]] || die "private_etc: not in the test's own mount namespace"
  if [[ -n $E2E_ETC_VIEW ]]; then
    umount /etc || die "cannot unmount the previous view of /etc"
    rm -rf "$E2E_ETC_VIEW"
  else
    atexit _drop_etc_view
  fi
  E2E_ETC_VIEW=$(mktemp -d "$E2E_TMP/etc.XXXXXX")
  mkdir "$E2E_ETC_VIEW/upper" "$E2E_ETC_VIEW/work"
  mount -t overlay squtun-e2e-etc \
    -o "lowerdir=/etc,upperdir=$E2E_ETC_VIEW/upper,workdir=$E2E_ETC_VIEW/work" /etc ||
    die "cannot mount a private view of /etc (overlayfs)"
}
_drop_etc_view() { umount /etc && rm -rf "$E2E_ETC_VIEW"; }

# forget_account NAME... — in the private /etc, no user and no group called NAME, and NAME in
# no group's member (or gshadow administrator) list
forget_account() {
  local name f kept
  [[ -n $E2E_ETC_VIEW ]] || die "forget_account outside a private_etc view"
  for name in "$@"; do
    for f in /etc/passwd /etc/shadow /etc/group /etc/gshadow; do
      [[ -f $f ]] || continue
      # fields 3 and 4 are the lists in group and gshadow, numbers in passwd and shadow
      kept=$(awk -F: -v OFS=: -v name="$name" '$1 == name { next }
        { for (i = 3; i <= 4 && i <= NF; i++) {
            n = split($i, member, ","); $i = ""
            for (j = 1; j <= n; j++) if (member[j] != name) $i = $i ($i == "" ? "" : ",") member[j]
          }
          print }' "$f") || die "cannot read $f"
      printf '%s\n' "$kept" >"$f"
    done
  done
}

# make_build_dir — MAKE_BUILD: the build directory `make` works in: that of the binary under
# test when it is a build of this source tree (so what is installed is what is tested), else a
# fresh build in the temp dir
make_build_dir() {
  MAKE_BUILD=$(dirname "$SQUTUN")
  if [[ -f $MAKE_BUILD/CMakeCache.txt ]] &&
    grep -qxF "CMAKE_HOME_DIRECTORY:INTERNAL=$REPO_ROOT" "$MAKE_BUILD/CMakeCache.txt"; then
    info "make works in $MAKE_BUILD (the build of the binary under test)"
    return 0
  fi
  MAKE_BUILD=$E2E_TMP/build
  info "$SQUTUN is not in a build of $REPO_ROOT: building one in $MAKE_BUILD"
  { cmake -S "$REPO_ROOT" -B "$MAKE_BUILD" -DSQUTUN_TESTS=OFF && cmake --build "$MAKE_BUILD" -j2; } \
    >"$E2E_LOGS/cmake.log" 2>&1 || die "cmake failed: $(tail -n 20 "$E2E_LOGS/cmake.log")"
}

# expect_stat PATH TYPE OWNER:GROUP MODE — e.g. expect_stat /run/squtun directory root:tun 1775
expect_stat() {
  local path=$1 type=$2 og=$3 mode=$4 got
  [[ -e $path ]] || die "$path is missing"
  got=$(stat -c '%F %U:%G %a' "$path")
  [[ $got == "$type $og $mode" ]] || die "$path is '$got', expected '$type $og $mode'"
  pass "$path: $got"
}

# find_faketime — FAKETIME_LIB: libfaketime (Debian's faketime package), to LD_PRELOAD into a
# daemon whose wall clock a test moves
FAKETIME_LIB=""
find_faketime() {
  local f
  for f in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1 /usr/local/lib/faketime/libfaketime.so.1; do
    if [[ -f $f ]]; then
      FAKETIME_LIB=$f
      return 0
    fi
  done
  die "libfaketime.so.1 not found (install the faketime package)"
}

# ---------------------------------------------------------------------------------------------
# traffic

# ping_loss_pct OUTPUT — packet loss percentage from ping's summary (e.g. "0", "0.5")
ping_loss_pct() { sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' <<<"$1" | tail -n 1; }

# ping_report FROM_NS ADDR COUNT — a short ping run, prints the summary; fails on any loss
ping_report() {
  local ns=$1 addr=$2 count=${3:-5} out
  out=$(ip netns exec "$ns" ping -n -c "$count" -i 0.2 -W 2 "$addr" 2>&1) ||
    die "ping $addr from $ns failed:"$'\n'"$out"
  printf '%s\n' "$out" | tail -n 2 | sed "s/^/    [$ns -> $addr] /"
  grep -q ' 0% packet loss' <<<"$out" || die "packet loss pinging $addr from $ns:"$'\n'"$out"
}

# mbit_per_s MIB SECS — the rate of MIB MiB in SECS seconds, in Mbit/s (no decimals)
mbit_per_s() { awk -v m="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", m * 8 * 1.048576 / s; else print "inf" }'; }

# tcp_transfer FROM_NS TO_NS TO_ADDR PORT MIB — socat MIB MiB of random data, sha256-checked;
# TO_ADDR IPv4 or IPv6.  Sets TRANSFER_SECS and TRANSFER_MBPS.
TRANSFER_SECS="" TRANSFER_MBPS=""
tcp_transfer() {
  local from=$1 to=$2 addr=$3 port=$4 mib=$5
  local src=$E2E_TMP/xfer-$port.src dst=$E2E_TMP/xfer-$port.dst rpid t0 secs h1 h2
  local listen="TCP-LISTEN:$port,bind=$addr" connect="TCP:$addr:$port"
  if [[ $addr == *:* ]]; then
    listen="TCP6-LISTEN:$port,bind=[$addr]" connect="TCP6:[$addr]:$port"
  fi
  head -c "${mib}M" /dev/urandom >"$src"
  rm -f "$dst"
  spawn helper "socat-recv-$port" "$to" socat -u "$listen,reuseaddr" "CREATE:$dst"
  rpid=$SPAWN_PID
  wait_for 10 tcp_listening "$to" "$port" || die "receiver (socat) did not listen on $addr:$port in $to"
  t0=$(now_ms)
  ip netns exec "$from" timeout 120 socat -u "OPEN:$src" "$connect,connect-timeout=10" ||
    die "sending ${mib} MiB from $from to $addr:$port failed or timed out"
  reap "$rpid" 60 || die "receiver socat ($to $addr:$port) still running 60 s after the sender finished"
  secs=$(since "$t0")
  [[ $WAIT_STATUS == 0 ]] || die "receiver socat exited with status $WAIT_STATUS"
  h1=$(sha256sum <"$src" | cut -d' ' -f1)
  h2=$(sha256sum <"$dst" | cut -d' ' -f1)
  [[ $h1 == "$h2" ]] ||
    die "sha256 mismatch for ${mib} MiB $from -> $addr: sent $h1, received $h2 ($(stat -c %s "$dst") bytes)"
  TRANSFER_SECS=$secs TRANSFER_MBPS=$(mbit_per_s "$mib" "$secs")
  info "transfer ${mib} MiB $from -> $addr:$port: sha256 ok ($h1), ${secs} s, $TRANSFER_MBPS Mbit/s"
  rm -f "$src" "$dst"
}

# iperf_run CLIENT_NS SERVER_NS SERVER_ADDR SECS [extra client args] — sets IPERF_MBPS
IPERF_MBPS=""
iperf_run() {
  local cns=$1 sns=$2 addr=$3 secs=$4 spid out
  shift 4
  require_cmd iperf3
  spawn helper iperf3-server "$sns" iperf3 -s -1 -B "$addr" -p 5201
  spid=$SPAWN_PID
  wait_for 10 tcp_listening "$sns" 5201 || die "iperf3 server did not start in $sns"
  out=$(ip netns exec "$cns" timeout $((secs + 30)) iperf3 -c "$addr" -p 5201 -t "$secs" -f m "$@" 2>&1) ||
    die "iperf3 client in $cns failed:"$'\n'"$out"
  printf '%s\n' "$out" >>"$E2E_LOGS/iperf3-client.log"
  reap "$spid" 15 || stop_helper "$spid"
  IPERF_MBPS=$(awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i == "Mbits/sec") v = $(i - 1) } END { print v }' <<<"$out")
  [[ -n $IPERF_MBPS ]] || die "could not read a receiver figure from iperf3 output:"$'\n'"$out"
  awk -v v="$IPERF_MBPS" 'BEGIN { exit !(v > 0) }' || die "iperf3 measured zero throughput:"$'\n'"$out"
  printf '%s\n' "$out" | grep -E 'sender|receiver' | sed "s/^/    /"
}
