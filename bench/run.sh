#!/usr/bin/env bash
# bench/run.sh — squtun against wireguard-go and the bare link, in one run.
#
#   bash bench/run.sh [--quick] [--out FILE] [--no-install] [--build-dir DIR] [--time SECS]
#                     [--rounds N]
#                     [--against REV] [--variant LABEL=ARGS]...
#
# As root on Debian 12. Installs what it needs (iperf3, iproute2, wireguard-tools, Debian's
# wireguard-go, build tools, Google Benchmark), unpacks the bookworm-backports wireguard-go
# into bench/.cache/ without installing it, builds squtun in Release in its own build
# directory, then measures over two network namespaces joined by a veth pair, one tunnel at a
# time: the bare veth, squtun (offloads on, and with --no-offload), and
# both wireguard-go builds, in rounds: every tunnel once per round, odd rounds in one order
# and even rounds in the reverse, so that a machine that drifts during the run (other work,
# a virtual machine's stolen time) weighs on every tunnel alike; each figure is the median of
# its rounds (peak RSS: the largest). Prints a table with every figure and its ratio to the modern
# wireguard-go (and to the bare veth for throughput) and writes it as TSV. bench/README.md
# explains every figure.
#
# --against REV also builds the commit REV (a detached git worktree under bench/.cache, removed
# at exit) and measures its squtun beside the current one; --variant LABEL=ARGS measures the
# current squtun once more with ARGS added to both daemons. Each such pair gets a table of
# ratios with the rows where one side is more than 5 % worse marked.
#
# Namespaces, processes and cleanup are tests/e2e/lib.sh's, so its rules hold: every process
# is started by this script, recorded by PID and killed by that PID in the EXIT trap; the
# namespaces go with it; every loop and wait is bounded; all traffic stays inside the two
# namespaces (underlay 198.18.0.0/15, tunnels 10.x).  Packages come from scripts/deps.sh.

# shellcheck disable=SC2317,SC2015  # functions run from traps and wait_for; A && B || C on purpose
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/deps.sh
source "$BENCH_DIR/../scripts/deps.sh"
# shellcheck source=tests/e2e/lib.sh
source "$BENCH_DIR/../tests/e2e/lib.sh"
TEST_NAME=bench
E2E_DONE_MSG="bench done"

QUICK=0
OUT=""
INSTALL=1
BUILD_DIR=$REPO_ROOT/build-bench
SECS=""
ROUNDS=""
AGAINST=""       # --against: a git revision
VARIANTS=()      # --variant labels, in order
declare -A VARIANT_ARGS=()

usage() {
  cat <<'EOF'
Usage: bash bench/run.sh [options]        (as root, on Debian 12)
  --quick          short runs (one round of 3 s per iperf3 test), brief micro-benchmarks
  --out FILE       write the TSV there (default: bench/results/DATE.tsv)
  --time SECS      seconds per iperf3 test (overrides the 5, or the 3 of --quick)
  --rounds N       measure every tunnel N times, alternating the order, and report the
                   median of each figure (1-9; default 3, 1 with --quick)
  --no-install     skip apt-get (everything must be installed already; the backports
                   wireguard-go is taken from bench/.cache if it was fetched before)
  --build-dir DIR  Release build directory (default: build-bench in the repository)
  --against REV    also build the commit REV (any git revision) and measure its squtun, with
                   and without offloads, beside the current one: squtun@HASH; a ratio for
                   every row, WORSE where the current tree is more than 5 % worse (with
                   "rounds overlap" where some round of each is as good as one of the other)
  --variant LABEL=ARGS  (repeatable) measure the current squtun once more with ARGS added to
                   both daemons' command lines, e.g. --variant noclamp=--no-clamp-mss:
                   squtun+LABEL, with its ratio to the plain squtun for every row
  -h, --help       this help
Environment: SQUTUN_BENCH_CMAKE_ARGS adds arguments to the cmake configure step.
EOF
}

add_variant() { # LABEL=ARGS
  local label=${1%%=*} args=${1#*=}
  [[ $1 == *=* && $label =~ ^[A-Za-z0-9_.-]+$ && -n $args ]] ||
    { echo "--variant: LABEL=ARGS, LABEL of letters, digits, _ . -; ARGS not empty: '$1'" >&2; exit 2; }
  [[ -z ${VARIANT_ARGS[$label]+set} ]] || { echo "--variant: label '$label' given twice" >&2; exit 2; }
  VARIANTS+=("$label")
  VARIANT_ARGS[$label]=$args
}

while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --out) OUT=${2:?--out needs a file}; shift ;;
    --out=*) OUT=${1#--out=} ;;
    --time) SECS=${2:?--time needs seconds}; shift ;;
    --time=*) SECS=${1#--time=} ;;
    --rounds) ROUNDS=${2:?--rounds needs a number}; shift ;;
    --rounds=*) ROUNDS=${1#--rounds=} ;;
    --no-install) INSTALL=0 ;;
    --build-dir) BUILD_DIR=${2:?--build-dir needs a directory}; shift ;;
    --build-dir=*) BUILD_DIR=${1#--build-dir=} ;;
    --against) AGAINST=${2:?--against needs a git revision}; shift ;;
    --against=*) AGAINST=${1#--against=} ;;
    --variant) add_variant "${2:?--variant needs LABEL=ARGS}"; shift ;;
    --variant=*) add_variant "${1#--variant=}" ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench/run.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
[[ -n $SECS ]] || SECS=$((QUICK ? 3 : 5))
[[ -n $ROUNDS ]] || ROUNDS=$((QUICK ? 1 : 3))
[[ $SECS =~ ^[0-9]+$ ]] && ((SECS >= 1 && SECS <= 120)) || { echo "--time: 1 to 120 seconds, not '$SECS'" >&2; exit 2; }
[[ $ROUNDS =~ ^[0-9]+$ ]] && ((ROUNDS >= 1 && ROUNDS <= 9)) || { echo "--rounds: 1 to 9, not '$ROUNDS'" >&2; exit 2; }
AGAINST_HASH="" AGAINST_SHORT="" AGAINST_DESC=""
if [[ -n $AGAINST ]]; then
  AGAINST_HASH=$(git -C "$BENCH_DIR" rev-parse --verify --quiet "$AGAINST^{commit}") ||
    { echo "--against: '$AGAINST' is not a commit of this repository" >&2; exit 2; }
  AGAINST_SHORT=$(git -C "$BENCH_DIR" rev-parse --short "$AGAINST_HASH")
  AGAINST_DESC="commit $AGAINST_SHORT"
  [[ $AGAINST == "$AGAINST_SHORT" ]] || AGAINST_DESC+=" ($AGAINST)"
fi

STAMP=$(date +%Y-%m-%d_%H%M%S)
if [[ -z $OUT ]]; then
  OUT=$BENCH_DIR/results/$STAMP.tsv
fi
mkdir -p "$(dirname "$OUT")"
OUT=$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")
MICRO_JSON=${OUT%.tsv}.micro.json

[[ $(id -u) -eq 0 ]] || die "run as root: it installs packages, creates network namespaces and TUN devices"
e2e_workspace

# ---------------------------------------------------------------------------------------------
# 1. install

WG_BPO="" WG_BPO_VERSION="" WG_BPO_WHY=""
CACHE=$BENCH_DIR/.cache

fetch_backports_wireguard_go() {
  # A private apt configuration that knows only bookworm-backports, on the mirror this
  # machine already uses for bookworm; the .deb is unpacked, never installed.
  local apt=$CACHE/apt uri deb
  uri=$(apt-cache policy 2>/dev/null | awk '$3 ~ /^bookworm\/main$/ && $2 ~ /^(https?|mirror\+https?):/ { print $2; exit }')
  if [[ -z $uri ]]; then
    WG_BPO_WHY="no Debian bookworm mirror found in this machine's apt sources"
    return 1
  fi
  rm -rf "$apt" "$CACHE/wireguard-go-bpo.new"
  mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$apt/sources.list.d" "$apt/preferences.d" "$apt/deb"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri bookworm-backports main" >"$apt/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=$apt/sources.list.d"
    -o "Dir::Etc::Preferences=$apt/preferences" -o "Dir::Etc::PreferencesParts=$apt/preferences.d"
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache::Archives=$apt/archives"
    -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=" -o "APT::Sandbox::User=root")
  if ! timeout 300 apt-get "${opts[@]}" update >"$E2E_LOGS/apt-backports.log" 2>&1; then
    WG_BPO_WHY="apt-get update of bookworm-backports failed (see the log)"
    tail -n 5 "$E2E_LOGS/apt-backports.log" >&2
    return 1
  fi
  if ! (cd "$apt/deb" && timeout 300 apt-get "${opts[@]}" download wireguard-go/bookworm-backports) >>"$E2E_LOGS/apt-backports.log" 2>&1; then
    WG_BPO_WHY="apt-get download wireguard-go/bookworm-backports failed"
    tail -n 5 "$E2E_LOGS/apt-backports.log" >&2
    return 1
  fi
  deb=$(find "$apt/deb" -maxdepth 1 -name "wireguard-go_*.deb" | head -n 1)
  [[ -n $deb ]] || { WG_BPO_WHY="the backports .deb did not arrive"; return 1; }
  dpkg-deb -x "$deb" "$CACHE/wireguard-go-bpo.new" || { WG_BPO_WHY="dpkg-deb -x failed"; return 1; }
  dpkg-deb -f "$deb" Version >"$CACHE/wireguard-go-bpo.new/VERSION"
  rm -rf "$CACHE/wireguard-go-bpo"
  mv "$CACHE/wireguard-go-bpo.new" "$CACHE/wireguard-go-bpo"
}

if ((INSTALL)); then
  install_deps iperf3 iproute2 iputils-ping wireguard-tools wireguard-go jq procps \
    build-essential cmake pkg-config libssl-dev libseccomp-dev libmnl-dev libbenchmark-dev
  info "fetching wireguard-go from bookworm-backports into bench/.cache (not installed)"
  mkdir -p "$CACHE"
  fetch_backports_wireguard_go || info "backports wireguard-go: $WG_BPO_WHY"
fi
require_cmd ip iperf3 ping jq cmake
if [[ -x $CACHE/wireguard-go-bpo/usr/bin/wireguard-go ]]; then
  WG_BPO=$CACHE/wireguard-go-bpo/usr/bin/wireguard-go
  WG_BPO_VERSION=$(cat "$CACHE/wireguard-go-bpo/VERSION" 2>/dev/null || echo "?")
  if [[ -n $WG_BPO_WHY ]]; then
    info "using the backports wireguard-go fetched earlier ($WG_BPO_VERSION)"
    WG_BPO_WHY=""
  fi
elif [[ -z $WG_BPO_WHY ]]; then
  WG_BPO_WHY="not fetched (run without --no-install)"
fi
WG_DEB=$(command -v wireguard-go || true)
WG_DEB_VERSION=$(dpkg-query -W -f '${Version}' wireguard-go 2>/dev/null || echo "")
WG_DEB_WHY=""
[[ -n $WG_DEB ]] || WG_DEB_WHY="wireguard-go is not installed"
command -v wg >/dev/null 2>&1 || { WG_DEB_WHY="wg (wireguard-tools) is not installed"; WG_BPO_WHY=${WG_BPO_WHY:-$WG_DEB_WHY}; WG_BPO=""; WG_DEB=""; }

# ---------------------------------------------------------------------------------------------
# 2. build

# build_squtun SOURCE BUILD_DIR LOG — the squtun target in Release, configured alike for every
# tree. Only that target is built, so a commit without SQUTUN_BENCH or SQUTUN_TESTS builds too:
# cmake merely warns about a -D it does not use.
build_squtun() {
  local src=$1 dir=$2 log=$3
  local args=(-S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DSQUTUN_TESTS=OFF -DSQUTUN_BENCH=ON)
  # shellcheck disable=SC2206  # word splitting wanted
  args+=(${SQUTUN_BENCH_CMAKE_ARGS:-})
  info "building squtun (Release) from $src in $dir"
  cmake "${args[@]}" >"$log" 2>&1 || { tail -n 30 "$log" >&2; die "cmake configure of $src failed"; }
  cmake --build "$dir" -j"$(nproc)" --target squtun >>"$log" 2>&1 ||
    { tail -n 40 "$log" >&2; die "building squtun from $src failed"; }
}

build_squtun "$REPO_ROOT" "$BUILD_DIR" "$E2E_LOGS/build.log"
use_binary "$BUILD_DIR/squtun"
MICRO=""
MICRO_WHY=""
if grep -qs '/squtun_micro_bench.dir$' "$BUILD_DIR/CMakeFiles/TargetDirectories.txt"; then
  if cmake --build "$BUILD_DIR" -j"$(nproc)" --target squtun_micro_bench squtun_aead_bench squtun_pipeline_bench >>"$E2E_LOGS/build.log" 2>&1; then
    MICRO=$BUILD_DIR/bench/squtun_micro_bench
  else
    tail -n 30 "$E2E_LOGS/build.log" >&2
    MICRO_WHY="building squtun_micro_bench failed"
  fi
else
  MICRO_WHY="no squtun_micro_bench target: the top-level CMakeLists.txt lacks option SQUTUN_BENCH / add_subdirectory(bench)"
fi
SQUTUN_VERSION=$("$SQUTUN" --version 2>&1 | head -n 1)

# The reference commit: a detached worktree of this repository, built in a build directory
# inside it (the same layout as the current tree's, so a compiler cache set up through
# SQUTUN_BENCH_CMAKE_ARGS finds the unchanged files).
AGAINST_BIN="" AGAINST_VERSION="" AGAINST_TREE=""
remove_against_tree() {
  git -C "$REPO_ROOT" worktree remove --force "$AGAINST_TREE" 2>/dev/null
  rm -rf "$(dirname "$AGAINST_TREE")"
  git -C "$REPO_ROOT" worktree prune
}
if [[ -n $AGAINST ]]; then
  mkdir -p "$CACHE"
  AGAINST_TREE=$(mktemp -d "$CACHE/against.XXXXXX")/src
  atexit remove_against_tree
  git -C "$REPO_ROOT" worktree add --detach "$AGAINST_TREE" "$AGAINST_HASH" >"$E2E_LOGS/worktree.log" 2>&1 ||
    { cat "$E2E_LOGS/worktree.log" >&2; die "git worktree add of $AGAINST ($AGAINST_SHORT) failed"; }
  build_squtun "$AGAINST_TREE" "$AGAINST_TREE/build-bench" "$E2E_LOGS/build-against.log"
  AGAINST_BIN=$AGAINST_TREE/build-bench/squtun
  [[ -x $AGAINST_BIN ]] || die "no squtun binary in $AGAINST_TREE/build-bench"
  AGAINST_VERSION=$("$AGAINST_BIN" --version 2>&1 | head -n 1)
  info "reference: $AGAINST = $AGAINST_SHORT, $AGAINST_VERSION"
fi

# ---------------------------------------------------------------------------------------------
# 3. namespaces

INNER_MTU=1420
PORT=5201
IPERF_TIMEOUT=$((SECS + 30))

TUN_MTU=$INNER_MTU # every tunnel alike, whatever squtun -m 1500 says
netns_pair

# ---------------------------------------------------------------------------------------------
# 4. measurements. Results go to R[tunnel/figure] (a number or "n/a"); notes to NOTE[tunnel].

declare -A R=()
declare -A NOTE=()
DAEMONS=()       # PIDs of the current tunnel's two daemons

# iperf_json OUTFILE ADDR ARGS... — one iperf3 test from NS_A to a one-shot server in NS_B;
# JSON in OUTFILE. 1 if it failed.
iperf_json() {
  local out=$1 addr=$2 spid rc=0
  shift 2
  spawn helper iperf3-server "$NS_B" iperf3 -s -1 -B "$addr" -p "$PORT"
  spid=$SPAWN_PID
  if ! wait_for 10 tcp_listening "$NS_B" "$PORT"; then
    stop_helper "$spid"
    return 1
  fi
  ip netns exec "$NS_A" timeout "$IPERF_TIMEOUT" iperf3 -c "$addr" -p "$PORT" -J "$@" >"$out" 2>>"$E2E_LOGS/iperf3-client.log" || rc=1
  reap "$spid" 10 || stop_helper "$spid"
  if ((rc)) || jq -e '.error' "$out" >/dev/null 2>&1; then
    { echo "### iperf3 -c $addr $*"; jq -r '.error // empty' "$out" 2>/dev/null; } >>"$E2E_LOGS/iperf3-client.log"
    return 1
  fi
}

daemons_cpu_ticks() { # sum of utime+stime of the current daemons
  local pid ticks total=0
  for pid in "${DAEMONS[@]}"; do
    ticks=$(cpu_ticks "$pid" 2>/dev/null) || return 1
    total=$((total + ticks))
  done
  echo "$total"
}

peak_rss_kib() { # largest VmHWM among the current daemons
  local pid v max=0
  for pid in "${DAEMONS[@]}"; do
    v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || return 1
    [[ -n $v ]] || return 1
    ((v > max)) && max=$v
  done
  echo "$max"
}

# tcp_test TUNNEL FIGURE ADDR [ARGS...] — receiver Mbit/s; CPU per KiB for tcp1_fwd
tcp_test() {
  local t=$1 fig=$2 addr=$3 json=$E2E_TMP/$1-$2.json c0="" c1="" bytes
  shift 3
  if ((${#DAEMONS[@]})); then c0=$(daemons_cpu_ticks) || c0=""; fi
  if ! iperf_json "$json" "$addr" -t "$SECS" "$@"; then
    R[$t/$fig]=n/a
    info "  $fig: iperf3 failed"
    return 0
  fi
  if ((${#DAEMONS[@]})); then c1=$(daemons_cpu_ticks) || c1=""; fi
  R[$t/$fig]=$(jq -r '.end.sum_received.bits_per_second / 1e6' "$json")
  bytes=$(jq -r '.end.sum_received.bytes' "$json")
  info "  $fig: $(printf '%.0f' "${R[$t/$fig]}") Mbit/s received"
  if [[ $fig == tcp1_fwd ]]; then
    if [[ -n $c0 && -n $c1 ]] && ((bytes > 0)); then
      R[$t/cpu_ns_per_kib]=$(awk -v d=$((c1 - c0)) -v hz="$CLK_TCK" -v b="$bytes" 'BEGIN { printf "%.1f", d * 1e9 / hz / (b / 1024) }')
      info "  daemon CPU: $((c1 - c0)) ticks for $bytes bytes = ${R[$t/cpu_ns_per_kib]} ns/KiB"
    else
      R[$t/cpu_ns_per_kib]=n/a
    fi
  fi
}

udp_test() {
  local t=$1 addr=$2 json=$E2E_TMP/$1-udp.json
  if ! iperf_json "$json" "$addr" -u -l 64 -b 0 -t "$SECS"; then
    R[$t/udp64_kpps]=n/a
    info "  udp64: iperf3 failed"
    return 0
  fi
  # Received datagrams: received bytes / 64 (sum_received.packets counts the lost too).
  R[$t/udp64_kpps]=$(jq -r '.end.sum_received.bytes / 64 / .end.sum_received.seconds / 1000' "$json")
  info "  udp64: $(printf '%.1f' "${R[$t/udp64_kpps]}") kpps received ($(jq -r '.end.sum_sent.packets / .end.sum_sent.seconds / 1000 | floor' "$json") kpps sent)"
}

# ping_avg ADDR — "avg_ms loss%" of ping -i 0.01 -c 200
ping_avg() {
  local out
  out=$(ip netns exec "$NS_A" timeout 30 ping -n -q -i 0.01 -c 200 -W 1 "$1" 2>&1) || true
  printf '%s\n' "$out" >>"$E2E_LOGS/ping.log"
  awk -F'[/ ]+' '/packet loss/ { for (i = 1; i <= NF; i++) if ($i ~ /%$/) loss = $i }
    /^(rtt|round-trip)/ { avg = $8 } END { if (avg == "") print "n/a", loss; else print avg, loss }' <<<"$out"
}

ping_tests() {
  local t=$1 addr=$2 r cpid json=$E2E_TMP/$1-pingload.json
  read -ra r <<<"$(ping_avg "$addr")"
  R[$t/ping_idle_ms]=${r[0]}
  info "  ping idle: ${r[0]} ms avg, ${r[1]:-?} loss"
  # Under load: one TCP stream A->B for the ping's 2 s and a margin either side.
  spawn helper iperf3-server "$NS_B" iperf3 -s -1 -B "$addr" -p "$PORT"
  local spid=$SPAWN_PID
  if ! wait_for 10 tcp_listening "$NS_B" "$PORT"; then
    stop_helper "$spid"
    R[$t/ping_load_ms]=n/a R[$t/ping_load_loss_pct]=n/a
    return 0
  fi
  spawn helper iperf3-load "$NS_A" timeout 40 iperf3 -c "$addr" -p "$PORT" -t 5 -J
  cpid=$SPAWN_PID
  sleep 1
  read -ra r <<<"$(ping_avg "$addr")"
  R[$t/ping_load_ms]=${r[0]}
  local loss=${r[1]:-n/a}
  R[$t/ping_load_loss_pct]=${loss%\%}
  info "  ping under load: ${r[0]} ms avg, ${r[1]:-?} loss"
  reap "$cpid" 45 || stop_helper "$cpid"
  reap "$spid" 10 || stop_helper "$spid"
}

# measure TUNNEL ADDR_IN_B — every figure through the tunnel to ADDR_IN_B
measure() {
  local t=$1 addr=$2 k
  ping_tests "$t" "$addr"
  tcp_test "$t" tcp1_fwd "$addr"
  tcp_test "$t" tcp1_rev "$addr" -R
  tcp_test "$t" tcp4_fwd "$addr" -P 4
  tcp_test "$t" tcp4_rev "$addr" -P 4 -R
  udp_test "$t" "$addr"
  if ((${#DAEMONS[@]})); then
    for k in "${DAEMONS[@]}"; do
      proc_alive "$k" || NOTE[$t]="${NOTE[$t]:+${NOTE[$t]}; }a daemon (pid $k) died during the run"
    done
    k=$(peak_rss_kib) && R[$t/rss_mib]=$(awk -v k="$k" 'BEGIN { printf "%.1f", k / 1024 }') || R[$t/rss_mib]=n/a
    info "  peak RSS (larger daemon): ${R[$t/rss_mib]} MiB"
  fi
}

mark_na() { # TUNNEL REASON
  local f
  for f in "${FIGURES[@]}"; do R[$1/$f]=n/a; done
  NOTE[$1]=$2
  info "$1: n/a ($2)"
}

stop_tunnel() { # ends the current daemons and removes their devices
  local pid
  for pid in "${DAEMONS[@]}"; do stop_helper "$pid"; done
  DAEMONS=()
  local ifn
  for ifn in "$@"; do
    ip -n "$NS_A" link del dev "$ifn" 2>/dev/null || true
    ip -n "$NS_B" link del dev "$ifn" 2>/dev/null || true
  done
}

# --- the tunnels -----------------------------------------------------------------------------

run_veth() {
  info "bare veth (198.18.0.1 -> 198.18.0.2, MTU 1500)"
  DAEMONS=()
  measure veth 198.18.0.2
  R[veth/cpu_ns_per_kib]=- R[veth/rss_mib]=-
}

run_squtun() { # TUNNEL BINARY NET [extra squtun options]
  local t=$1 net=$3
  # start_daemon runs $SQUTUN: this tunnel's binary, for this call only
  local SQUTUN=$2
  shift 3
  info "$t: $SQUTUN (${net}.1 -> ${net}.2, inner MTU $INNER_MTU) $*"
  local key=$E2E_TMP/squtun.key log_a
  make_key "$key"
  start_daemon "$NS_A" -l 7778 -p 198.18.0.2 -r 7777 -i sqa -k "$key" --pidfile "$(pidfile_for "$t-a")" "$@"
  DAEMONS+=("$DAEMON_PID")
  log_a=$DAEMON_LOG
  start_daemon "$NS_B" -l 7777 -p 198.18.0.1 -r 7778 -i sqb -k "$key" --pidfile "$(pidfile_for "$t-b")" "$@"
  DAEMONS+=("$DAEMON_PID")
  if ! wait_for 10 link_exists "$NS_A" sqa || ! wait_for 10 link_exists "$NS_B" sqb; then
    mark_na "$t" "squtun did not create its TUN device (see its log)"
    tail -n 5 "$log_a" "$DAEMON_LOG" >&2 || true
    stop_tunnel sqa sqb
    return 0
  fi
  tun_config "$NS_A" sqa "${net}.1/24"
  tun_config "$NS_B" sqb "${net}.2/24"
  if ! wait_for 15 ns_ping "$NS_A" "${net}.2"; then
    mark_na "$t" "no ping through the tunnel within 15 s"
    stop_tunnel sqa sqb
    return 0
  fi
  measure "$t" "${net}.2"
  stop_tunnel sqa sqb
}

run_wireguard_go() { # TUNNEL BINARY NET
  local t=$1 bin=$2 net=$3 tag
  tag=$([[ $t == wggo_deb12 ]] && echo o || echo n)
  # wireguard-go's UAPI socket is /var/run/wireguard/IF.sock, shared by every namespace:
  # the names carry our PID so that nothing else's socket is touched.
  local ifa="wg$tag$$a" ifb="wg$tag$$b"
  info "$t: $bin (${net}.1 -> ${net}.2, inner MTU $INNER_MTU)"
  (umask 077 && wg genkey >"$E2E_TMP/$t-a.key" && wg genkey >"$E2E_TMP/$t-b.key")
  local pub_a pub_b
  pub_a=$(wg pubkey <"$E2E_TMP/$t-a.key")
  pub_b=$(wg pubkey <"$E2E_TMP/$t-b.key")
  atexit rm -f "/var/run/wireguard/$ifa.sock" "/var/run/wireguard/$ifb.sock"
  spawn helper "$t-a" "$NS_A" env WG_PROCESS_FOREGROUND=1 "$bin" -f "$ifa"
  DAEMONS+=("$SPAWN_PID")
  spawn helper "$t-b" "$NS_B" env WG_PROCESS_FOREGROUND=1 "$bin" -f "$ifb"
  DAEMONS+=("$SPAWN_PID")
  if ! wait_for 10 test -S "/var/run/wireguard/$ifa.sock" || ! wait_for 10 test -S "/var/run/wireguard/$ifb.sock"; then
    mark_na "$t" "wireguard-go did not open its UAPI socket (see its log)"
    stop_tunnel "$ifa" "$ifb"
    return 0
  fi
  ip netns exec "$NS_A" wg set "$ifa" private-key "$E2E_TMP/$t-a.key" listen-port 51820 \
    peer "$pub_b" allowed-ips "${net}.0/24" endpoint 198.18.0.2:51821 &&
    ip netns exec "$NS_B" wg set "$ifb" private-key "$E2E_TMP/$t-b.key" listen-port 51821 \
      peer "$pub_a" allowed-ips "${net}.0/24" endpoint 198.18.0.1:51820 ||
    { mark_na "$t" "configuring wireguard-go failed"; stop_tunnel "$ifa" "$ifb"; return 0; }
  tun_config "$NS_A" "$ifa" "${net}.1/24"
  tun_config "$NS_B" "$ifb" "${net}.2/24"
  if ! wait_for 15 ns_ping "$NS_A" "${net}.2"; then
    mark_na "$t" "no ping through the tunnel within 15 s"
    stop_tunnel "$ifa" "$ifb"
    return 0
  fi
  measure "$t" "${net}.2"
  stop_tunnel "$ifa" "$ifb"
}

# ---------------------------------------------------------------------------------------------
# 5. run everything

TUNNELS=(veth squtun squtun_nooff wggo_deb12 wggo_bpo)
declare -A TITLE=([veth]="bare veth" [squtun]="squtun" [squtun_nooff]="squtun no-offload"
  [wggo_deb12]="wg-go 20220316" [wggo_bpo]="wg-go 20231211")
FIGURES=(tcp1_fwd tcp1_rev tcp4_fwd tcp4_rev udp64_kpps ping_idle_ms ping_load_ms ping_load_loss_pct
  cpu_ns_per_kib rss_mib)
declare -A FIG_TITLE=(
  [tcp1_fwd]="TCP 1 stream A->B" [tcp1_rev]="TCP 1 stream B->A"
  [tcp4_fwd]="TCP 4 streams A->B" [tcp4_rev]="TCP 4 streams B->A"
  [udp64_kpps]="UDP 64 B received" [ping_idle_ms]="ping RTT idle" [ping_load_ms]="ping RTT under load"
  [ping_load_loss_pct]="ping loss under load"
  [cpu_ns_per_kib]="daemon CPU per KiB" [rss_mib]="daemon peak RSS")
declare -A FIG_UNIT=([tcp1_fwd]=Mbit/s [tcp1_rev]=Mbit/s [tcp4_fwd]=Mbit/s [tcp4_rev]=Mbit/s
  [udp64_kpps]=kpps [ping_idle_ms]=ms [ping_load_ms]=ms [ping_load_loss_pct]=% [cpu_ns_per_kib]=ns/KiB [rss_mib]=MiB)
THROUGHPUT=(tcp1_fwd tcp1_rev tcp4_fwd tcp4_rev udp64_kpps)

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
T0=$(now_ms)
info "measuring: $ROUNDS round(s), ${SECS} s per iperf3 test; load average before: $LOAD0"

# Beside the current squtun: the reference commit's (squtun@HASH, with and without offloads)
# and the variants (squtun+LABEL). COMPARED_TO[TUNNEL] is what that tunnel's ratios are to.
EXTRA_TUNNELS=()
declare -A COMPARED_TO=()
if [[ -n $AGAINST_BIN ]]; then
  EXTRA_TUNNELS+=("squtun@$AGAINST_SHORT" "squtun_nooff@$AGAINST_SHORT")
  COMPARED_TO[squtun]=squtun@$AGAINST_SHORT
  COMPARED_TO[squtun_nooff]=squtun_nooff@$AGAINST_SHORT
  TITLE[squtun@$AGAINST_SHORT]="squtun@$AGAINST_SHORT"
  TITLE[squtun_nooff@$AGAINST_SHORT]="squtun@$AGAINST_SHORT no-offload"
fi
for v in "${VARIANTS[@]}"; do
  EXTRA_TUNNELS+=("squtun+$v")
  COMPARED_TO[squtun+$v]=squtun
  TITLE[squtun+$v]="squtun +$v"
done

is_num() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; }

# run_tunnel TUNNEL — sets TUNNEL up, measures every figure into R[TUNNEL/...], takes it down
run_tunnel() {
  local t=$1 i args
  case $t in
    veth) run_veth ;;
    squtun) run_squtun squtun "$SQUTUN" 10.91.1 ;;
    squtun_nooff) run_squtun squtun_nooff "$SQUTUN" 10.91.2 --no-offload ;;
    squtun@*) run_squtun "$t" "$AGAINST_BIN" 10.91.3 ;;
    squtun_nooff@*) run_squtun "$t" "$AGAINST_BIN" 10.91.4 --no-offload ;;
    squtun+*)
      for i in "${!VARIANTS[@]}"; do
        [[ $t == "squtun+${VARIANTS[$i]}" ]] || continue
        read -ra args <<<"${VARIANT_ARGS[${VARIANTS[$i]}]}"
        run_squtun "$t" "$SQUTUN" "10.91.$((10 + i))" "${args[@]}"
      done
      ;;
    wggo_deb12) [[ -n $WG_DEB ]] && run_wireguard_go wggo_deb12 "$WG_DEB" 10.92.1 || mark_na wggo_deb12 "$WG_DEB_WHY" ;;
    wggo_bpo) [[ -n $WG_BPO ]] && run_wireguard_go wggo_bpo "$WG_BPO" 10.92.2 || mark_na wggo_bpo "$WG_BPO_WHY" ;;
  esac
}

# median VALUES... — of the numbers among VALUES, or n/a if there are none
median() {
  local nums=() x
  for x in "$@"; do is_num "$x" && nums+=("$x"); done
  ((${#nums[@]})) || { echo n/a; return; }
  printf '%s\n' "${nums[@]}" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
largest() { # VALUES... — the largest number among VALUES, or n/a
  local nums=() x
  for x in "$@"; do is_num "$x" && nums+=("$x"); done
  ((${#nums[@]})) || { echo n/a; return; }
  printf '%s\n' "${nums[@]}" | sort -g | tail -n 1
}

# Each reference right after its current counterpart, so both see much the same machine; even
# rounds run the list backwards, so that no tunnel always comes first or last.
ORDER=(veth squtun)
[[ -z $AGAINST_BIN ]] || ORDER+=("squtun@$AGAINST_SHORT")
ORDER+=(squtun_nooff)
[[ -z $AGAINST_BIN ]] || ORDER+=("squtun_nooff@$AGAINST_SHORT")
for v in "${VARIANTS[@]}"; do ORDER+=("squtun+$v"); done
ORDER+=(wggo_deb12 wggo_bpo)
declare -A ROUND_VALUES=() # TUNNEL/FIGURE -> the value of each round, in round order
for ((round = 1; round <= ROUNDS; round++)); do
  info "round $round of $ROUNDS"
  order=("${ORDER[@]}")
  if ((round % 2 == 0)); then
    order=()
    for ((i = ${#ORDER[@]} - 1; i >= 0; i--)); do order+=("${ORDER[$i]}"); done
  fi
  for t in "${order[@]}"; do
    for f in "${FIGURES[@]}"; do unset "R[$t/$f]"; done
    run_tunnel "$t"
    for f in "${FIGURES[@]}"; do ROUND_VALUES[$t/$f]+="${R[$t/$f]:-n/a} "; done
  done
done
for t in "${ORDER[@]}"; do
  for f in "${FIGURES[@]}"; do
    read -ra values <<<"${ROUND_VALUES[$t/$f]}"
    if [[ $f == rss_mib ]]; then R[$t/$f]=$(largest "${values[@]}"); else R[$t/$f]=$(median "${values[@]}"); fi
    # veth has no daemon: its CPU and RSS cells say "-", not n/a
    [[ ${values[0]} == - ]] && R[$t/$f]=-
  done
done
for i in "${!VARIANTS[@]}"; do
  NOTE[squtun+${VARIANTS[$i]}]="${NOTE[squtun+${VARIANTS[$i]}]:+${NOTE[squtun+${VARIANTS[$i]}]}; }daemon arguments added: ${VARIANT_ARGS[${VARIANTS[$i]}]}"
done
for t in "${EXTRA_TUNNELS[@]}"; do
  [[ $t == *@* ]] && NOTE[$t]="${NOTE[$t]:+${NOTE[$t]}; }$AGAINST_DESC, $AGAINST_VERSION"
done
[[ -z $WG_DEB ]] || NOTE[wggo_deb12]="${NOTE[wggo_deb12]:-Debian 12 package $WG_DEB_VERSION}"
[[ -z $WG_BPO ]] || NOTE[wggo_bpo]="${NOTE[wggo_bpo]:-bookworm-backports $WG_BPO_VERSION, unpacked in bench/.cache}"
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

# Micro-benchmarks, briefly.
MICRO_LINES=()
declare -A MICRO_R=()
if [[ -n $MICRO ]]; then
  info "micro-benchmarks (squtun_micro_bench)"
  # seconds per benchmark, a plain number as Google Benchmark 1.7 (Debian 12) wants it
  min_time=$( ((QUICK)) && echo 0.05 || echo 0.2)
  if timeout 300 "$MICRO" --benchmark_min_time="$min_time" --benchmark_out="$MICRO_JSON" \
    --benchmark_out_format=json >"$E2E_LOGS/micro.log" 2>&1; then
    micro_get() { jq -r --arg n "$1" ".benchmarks[] | select(.name == \$n) | $2" "$MICRO_JSON"; }
    # Google Benchmark reports cpu_time in ns (time_unit) and bytes_per_second from CPU time.
    MICRO_R[seal_1420]=$(micro_get BM_SealPacket/bytes:1420 '.bytes_per_second / 1e6')
    MICRO_R[open_1420]=$(micro_get BM_OpenPacket/bytes:1420 '.bytes_per_second / 1e6')
    MICRO_R[seal_64]=$(micro_get BM_SealPacket/bytes:64 '.cpu_time')
    MICRO_R[open_64]=$(micro_get BM_OpenPacket/bytes:64 '.cpu_time')
    MICRO_R[replay_reordered]=$(micro_get BM_ReplayAcceptReordered/block:64/late_by:1000 '.cpu_time')
    MICRO_R[peer_rx_batch64]=$(micro_get BM_PeerReceiveCommitBatch '.cpu_time')
    MICRO_LINES+=("$(printf 'seal 1420 B %.0f MB/s, open 1420 B %.0f MB/s; seal 64 B %.0f ns, open 64 B %.0f ns (CPU time per packet)' \
      "${MICRO_R[seal_1420]:-0}" "${MICRO_R[open_1420]:-0}" "${MICRO_R[seal_64]:-0}" "${MICRO_R[open_64]:-0}")")
    MICRO_LINES+=("$(printf 'replay window accept (reordered) %.1f ns; Peer receive+commit per batch of 64: %.0f ns' \
      "${MICRO_R[replay_reordered]:-0}" "${MICRO_R[peer_rx_batch64]:-0}")")
  else
    tail -n 10 "$E2E_LOGS/micro.log" >&2
    MICRO_WHY="squtun_micro_bench failed"
  fi
fi
# seal and open next to `openssl speed -evp chacha20-poly1305`, all in one run; its table as printed
AEAD_LOG=${OUT%.tsv}.aead.txt
if [[ -n $MICRO ]] && timeout 600 "$BUILD_DIR/bench/squtun_aead_bench" --seconds 1 \
  --rounds "$( ((QUICK)) && echo 1 || echo 3)" >"$AEAD_LOG" 2>&1; then
  mapfile -t -O "${#MICRO_LINES[@]}" MICRO_LINES <"$AEAD_LOG"
else
  MICRO_LINES+=("squtun_aead_bench: n/a, see $AEAD_LOG")
fi
# the data path's pipeline between in-memory stand-ins, 1..N threads; its table as printed
PIPELINE_LOG=${OUT%.tsv}.pipeline.txt
if [[ -n $MICRO ]] && timeout 600 "$BUILD_DIR/bench/squtun_pipeline_bench" --seconds "$( ((QUICK)) && echo 0.2 || echo 0.5)" \
  --rounds "$( ((QUICK)) && echo 1 || echo 5)" >"$PIPELINE_LOG" 2>&1; then
  mapfile -t -O "${#MICRO_LINES[@]}" MICRO_LINES <"$PIPELINE_LOG"
else
  MICRO_LINES+=("squtun_pipeline_bench: n/a, see $PIPELINE_LOG")
fi
[[ -n $MICRO_WHY ]] && MICRO_LINES+=("n/a: $MICRO_WHY")

# ---------------------------------------------------------------------------------------------
# 6. the table

REF=wggo_bpo
ratio() { # VALUE REFERENCE — VALUE/REFERENCE with two decimals, or "n/a"
  if is_num "$1" && is_num "$2" && awk -v r="$2" 'BEGIN { exit !(r > 0) }'; then
    awk -v v="$1" -v r="$2" 'BEGIN { x = v / r; printf (x < 0.1 ? "%.3f" : "%.2f"), x }'
  else
    echo n/a
  fi
}
fmt() { # FIGURE VALUE
  is_num "$2" || { echo "$2"; return; }
  case $1 in
    tcp*) printf '%.0f' "$2" ;;
    udp64_kpps | rss_mib | ping_load_loss_pct) printf '%.1f' "$2" ;;
    ping_*) printf '%.3f' "$2" ;;
    cpu_*) printf '%.0f' "$2" ;;
  esac
}

# worse FIGURE VALUE BASELINE — VALUE more than WORSE_PCT % worse than BASELINE: lower for
# throughput, higher for RTT, loss, CPU and RSS. Never when either is not a number or the
# baseline is 0 (no ratio).
WORSE_PCT=5
higher_is_better() { local x; for x in "${THROUGHPUT[@]}"; do [[ $x == "$1" ]] && return 0; done; return 1; }
worse() {
  local up=0
  higher_is_better "$1" && up=1
  is_num "$2" && is_num "$3" && awk -v v="$2" -v b="$3" -v up="$up" -v p="$WORSE_PCT" \
    'BEGIN { exit !(b > 0 && (up ? v < b * (1 - p / 100) : v > b * (1 + p / 100))) }'
}

# rounds_apart FIGURE TUNNEL BASE — every round of TUNNEL is worse than every round of BASE:
# their ranges do not overlap. A median worse by more than WORSE_PCT % whose rounds overlap is
# within what the machine did between rounds.
rounds_apart() {
  local up=0
  higher_is_better "$1" && up=1
  awk -v a="${ROUND_VALUES[$2/$1]:-}" -v b="${ROUND_VALUES[$3/$1]:-}" -v up="$up" '
    function range(list, r,   n, v, i, x, seen) {
      n = split(list, v, " ")
      for (i = 1; i <= n; i++) {
        if (v[i] !~ /^[0-9]+(\.[0-9]+)?$/) continue
        x = v[i] + 0
        if (!seen || x < r["min"]) r["min"] = x
        if (!seen || x > r["max"]) r["max"] = x
        seen = 1
      }
      return seen
    }
    BEGIN {
      if (!range(a, ra) || !range(b, rb)) exit 1
      exit !(up ? ra["max"] < rb["min"] : ra["min"] > rb["max"])
    }'
}
# worse_mark FIGURE TUNNEL BASE — WORSE, "WORSE, rounds overlap", or nothing
worse_mark() {
  worse "$1" "${R[$2/$1]:-}" "${R[$3/$1]:-}" || return 0
  if rounds_apart "$1" "$2" "$3"; then echo WORSE; else echo "WORSE, rounds overlap"; fi
}

{
  printf '# squtun bench %s\thost %s\tkernel %s\t%s cores\t%s s per test, %s rounds%s\n' "$STAMP" "$(hostname)" \
    "$(uname -r)" "$(nproc)" "$SECS" "$ROUNDS" "$( ((QUICK)) && echo ' (--quick)')"
  printf '# load average before %s, after %s\tsqutun %s\twireguard-go Debian %s\tbackports %s%s\n' \
    "$LOAD0" "$LOAD1" "$SQUTUN_VERSION" "${WG_DEB_VERSION:-n/a}" "${WG_BPO_VERSION:-n/a}" \
    "${AGAINST_HASH:+$'\t'against $AGAINST_HASH ($AGAINST)}"
  printf 'tunnel\tfigure\tunit\tvalue\tratio_to_%s\tratio_to_veth\tcompared_to\tratio_to_compared\tworse\tnote\trounds\n' "$REF"
  for t in "${TUNNELS[@]}" "${EXTRA_TUNNELS[@]}"; do
    for f in "${FIGURES[@]}"; do
      v=${R[$t/$f]:-n/a}
      rv=n/a
      for x in "${THROUGHPUT[@]}"; do [[ $x == "$f" ]] && rv=$(ratio "$v" "${R[veth/$f]:-}"); done
      base=${COMPARED_TO[$t]:-}
      rounds=()
      read -ra values <<<"${ROUND_VALUES[$t/$f]:-}"
      for x in "${values[@]}"; do rounds+=("$(fmt "$f" "$x")"); done
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$f" "${FIG_UNIT[$f]}" "$(fmt "$f" "$v")" \
        "$(ratio "$v" "${R[$REF/$f]:-}")" "$rv" "${base:--}" "$([[ -n $base ]] && ratio "$v" "${R[$base/$f]:-}" || echo -)" \
        "$([[ -n $base ]] && worse_mark "$f" "$t" "$base")" "${NOTE[$t]:-}" "${rounds[*]}"
    done
  done
  declare -A micro_unit=([seal_1420]=MB/s [open_1420]=MB/s [seal_64]=ns [open_64]=ns
    [replay_reordered]=ns [peer_rx_batch64]=ns)
  for k in seal_1420 open_1420 seal_64 open_64 replay_reordered peer_rx_batch64; do
    is_num "${MICRO_R[$k]:-}" || continue
    printf 'micro\t%s\t%s\t%.1f\tn/a\tn/a\t-\t-\t\t%s\t-\n' "$k" "${micro_unit[$k]}" "${MICRO_R[$k]}" "CPU time, squtun_micro_bench"
  done
} >"$OUT"

cell() { # TUNNEL FIGURE — "value ×ratio"
  local v=${R[$1/$2]:-n/a} r
  r=$(ratio "$v" "${R[$REF/$2]:-}")
  if [[ $v == n/a || $v == - ]]; then printf '%s' "$v"; elif [[ $r == n/a ]]; then fmt "$2" "$v"; else printf '%s x%s' "$(fmt "$2" "$v")" "$r"; fi
}

echo
echo "squtun benchmark $STAMP: ${SECS} s per test, $ROUNDS round(s)$( ((QUICK)) && echo ' (--quick)'), $(nproc) cores, kernel $(uname -r)"
((ROUNDS == 1)) || echo "each figure is the median of its rounds (peak RSS: the largest); every round's values are in the TSV"
echo "load average before $LOAD0, after $LOAD1; took $(( ($(now_ms) - T0) / 1000 )) s"
echo "each cell: value xRATIO, the ratio to ${TITLE[$REF]} (throughput: higher is better; RTT, CPU, RSS: lower)"
printf '%-22s %-7s' figure unit
for t in "${TUNNELS[@]}"; do printf ' %-17s' "${TITLE[$t]}"; done
echo
for f in "${FIGURES[@]}"; do
  printf '%-22s %-7s' "${FIG_TITLE[$f]}" "${FIG_UNIT[$f]}"
  for t in "${TUNNELS[@]}"; do printf ' %-17s' "$(cell "$t" "$f")"; done
  echo
done
echo "throughput as a fraction of the bare veth:"
for f in "${THROUGHPUT[@]}"; do
  printf '%-22s %-7s' "${FIG_TITLE[$f]}" ""
  for t in "${TUNNELS[@]}"; do printf ' %-17s' "$(ratio "${R[$t/$f]:-}" "${R[veth/$f]:-}")"; done
  echo
done
xratio() { local r; r=$(ratio "$@"); [[ $r == n/a ]] && echo n/a || echo "x$r"; }
# One table per compared pair: TUNNEL beside what it is compared to, the ratio, the mark.
for t in squtun squtun_nooff "${EXTRA_TUNNELS[@]}"; do
  base=${COMPARED_TO[$t]:-}
  [[ -n $base ]] || continue
  echo "${TITLE[$t]} against ${TITLE[$base]}: ratio = ${TITLE[$t]} / ${TITLE[$base]}; WORSE: more than $WORSE_PCT % worse" \
    "(lower throughput; higher RTT, loss, CPU, RSS)$( ((ROUNDS > 1)) && echo "; rounds overlap: some round of each side is as good as one of the other")"
  printf '%-22s %-7s %-27s %-27s %-7s\n' figure unit "${TITLE[$t]}" "${TITLE[$base]}" ratio
  n=0 overlapping=0
  for f in "${FIGURES[@]}"; do
    mark=$(worse_mark "$f" "$t" "$base")
    [[ -n $mark ]] && n=$((n + 1))
    [[ $mark == *overlap* ]] && overlapping=$((overlapping + 1))
    printf '%-22s %-7s %-27s %-27s %-7s %s\n' "${FIG_TITLE[$f]}" "${FIG_UNIT[$f]}" "$(fmt "$f" "${R[$t/$f]:-n/a}")" \
      "$(fmt "$f" "${R[$base/$f]:-n/a}")" "$(xratio "${R[$t/$f]:-}" "${R[$base/$f]:-}")" "$mark"
  done
  echo "  $n of ${#FIGURES[@]} rows WORSE$( ((ROUNDS > 1 && n > 0)) && echo ", $overlapping of them with rounds that overlap")"
done
echo "notes:"
for t in "${TUNNELS[@]}" "${EXTRA_TUNNELS[@]}"; do
  [[ -n ${NOTE[$t]:-} ]] && echo "  ${TITLE[$t]}: ${NOTE[$t]}"
done
echo "  CPU: utime+stime of both daemons over the TCP 1-stream A->B test / KiB received; RSS: larger VmHWM"
echo "micro-benchmarks:"
for l in "${MICRO_LINES[@]}"; do echo "  $l"; done
echo "TSV: $OUT"
[[ -n $MICRO && -f $MICRO_JSON ]] && echo "micro-benchmark JSON: $MICRO_JSON"
exit 0
