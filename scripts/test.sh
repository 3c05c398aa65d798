#!/usr/bin/env bash
# scripts/test.sh — the test command: installs what the tests need, builds build/, runs every
# unit and end-to-end test through CTest, then builds the libFuzzer targets with clang and runs
# each for FUZZ_SECONDS (60 s) under ASan, UBSan and leak detection.  Needs root (the end-to-end
# tests make network namespaces, TUN devices and a user); re-runs itself with sudo otherwise.
# Works from any directory.
#
#   bash scripts/test.sh
#   FUZZ_SECONDS=600 bash scripts/test.sh     # fuzz each target longer (or shorter)
#   SQUTUN_NO_INSTALL=1 bash scripts/test.sh  # do not apt-get anything
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
if [[ $(id -u) -ne 0 ]]; then
  exec sudo --preserve-env=FUZZ_SECONDS,SQUTUN_NO_INSTALL,ASAN_OPTIONS,UBSAN_OPTIONS bash "$0" "$@"
fi
# shellcheck source=scripts/deps.sh
source "$ROOT/scripts/deps.sh"

JOBS=${JOBS:-2}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
T0=$SECONDS
stage() { printf '\n=== [%4ss] %s\n' "$((SECONDS - T0))" "$*"; }
FAILED=()

stage "dependencies"
install_deps build-essential cmake pkg-config libssl-dev libseccomp-dev libmnl-dev libgtest-dev googletest clang \
  iperf3 iproute2 iputils-ping socat uml-utilities net-tools faketime procps util-linux \
  passwd nftables conntrack systemd groff-base man-db ifupdown dpkg-dev tcpdump python3 ethtool \
  lintian dpkg-repack python3-prometheus-client shellcheck
install_deps "$(fuzzer_runtime_pkg)"

stage "configure and build build/ (RelWithDebInfo, warnings are errors, -j$JOBS)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSQUTUN_WERROR=ON
cmake --build build -j"$JOBS"

stage "ctest: unit and end-to-end tests"
if ! ctest --test-dir build --output-on-failure -j"$JOBS"; then
  FAILED+=("ctest (build/)")
fi

if [[ -f tests/fuzz/CMakeLists.txt ]]; then
  # One libFuzzer target per parser that sees outside bytes (tests/fuzz/fuzz_*.cpp), each with
  # its seed corpus in tests/fuzz/corpus/<target>/ and, for the text parsers, a dictionary
  # (tests/fuzz/<target>.dict); every one runs FUZZ_SECONDS. A UBSan report
  # or a leak ends the run as a failure (the inputs land in build-fuzz/artifacts/).
  stage "libFuzzer targets (clang, ASan + UBSan) in build-fuzz/, ${FUZZ_SECONDS}s each, $JOBS at a time"
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=clang++ -DSQUTUN_FUZZ=ON -DSQUTUN_TESTS=OFF -DSQUTUN_WERROR=ON
  fuzz_built=1
  if ! cmake --build build-fuzz -j"$JOBS"; then
    FAILED+=("build of build-fuzz/ (clang, -DSQUTUN_FUZZ=ON): no fuzz target ran")
    fuzz_built=0
  fi
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
  export ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
  sources=()
  if [[ $fuzz_built -eq 1 ]]; then
    shopt -s nullglob
    sources=(tests/fuzz/fuzz_*.cpp)
    shopt -u nullglob
  fi
  [[ $fuzz_built -eq 0 || ${#sources[@]} -gt 0 ]] || FAILED+=("no tests/fuzz/fuzz_*.cpp")
  mkdir -p build-fuzz/fuzz-logs build-fuzz/artifacts
  # fuzz_one NAME — one target for FUZZ_SECONDS; its exit status goes to fuzz-logs/NAME.rc
  fuzz_one() {
    local name=$1 bin=build-fuzz/tests/fuzz/$1 seeds=tests/fuzz/corpus/$1 work=build-fuzz/corpus-work/$1
    local log=build-fuzz/fuzz-logs/$1.log dict=() rc=0
    # new inputs go to a scratch corpus (the first directory), never into the repository
    mkdir -p "$work"
    [[ -f tests/fuzz/$name.dict ]] && dict=(-dict="tests/fuzz/$name.dict")
    timeout $((FUZZ_SECONDS + 120)) "$bin" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 \
      -detect_leaks=1 -timeout=30 "${dict[@]}" -artifact_prefix="build-fuzz/artifacts/$name-" \
      "$work" "$seeds" >"$log" 2>&1 || rc=$?
    echo "$rc" >"build-fuzz/fuzz-logs/$name.rc"
  }
  # Each target is one single-threaded process, so JOBS of them run at once (one a core):
  # each still gets its full FUZZ_SECONDS, and the stage takes a JOBS-th of the time.
  names=()
  for source in "${sources[@]}"; do
    name=$(basename "$source" .cpp)
    rm -f "build-fuzz/fuzz-logs/$name.rc"
    if [[ ! -x build-fuzz/tests/fuzz/$name ]]; then
      printf '  %-22s FAILED (not built)\n' "$name"
      FAILED+=("fuzz target $name: build-fuzz/tests/fuzz/$name was not built")
    elif [[ ! -d tests/fuzz/corpus/$name ]] || [[ -z $(ls -A "tests/fuzz/corpus/$name") ]]; then
      printf '  %-22s FAILED (no seeds)\n' "$name"
      FAILED+=("fuzz target $name: no seed corpus in tests/fuzz/corpus/$name")
    else
      names+=("$name")
    fi
  done
  running=0
  for name in "${names[@]}"; do
    if ((running >= JOBS)); then
      wait -n || true
      running=$((running - 1))
    fi
    fuzz_one "$name" &
    running=$((running + 1))
  done
  wait || true
  for name in "${names[@]}"; do
    log=build-fuzz/fuzz-logs/$name.log
    rc=$(cat "build-fuzz/fuzz-logs/$name.rc" 2>/dev/null || echo "none")
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
    printf '  %-22s %ss ... ' "$name" "${secs:-?}"
    if [[ $rc == 0 ]]; then
      echo "ok (${runs:-?} runs, ${rate:-?}/s)"
    else
      echo "FAILED (exit $rc)"
      tail -n 60 "$log"
      FAILED+=("fuzz target $name (log $log, artifacts in build-fuzz/artifacts)")
    fi
  done
else
  stage "no tests/fuzz/CMakeLists.txt: no fuzz targets to run"
fi

stage "done"
if [[ ${#FAILED[@]} -ne 0 ]]; then
  printf 'FAILED: %s\n' "${FAILED[@]}" >&2
  exit 1
fi
echo "all tests passed in $((SECONDS - T0)) s"
