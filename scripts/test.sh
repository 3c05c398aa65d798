#!/usr/bin/env bash
# scripts/test.sh — the test command: installs what the tests need, builds build/, runs every
# unit and end-to-end test through CTest, then builds the libFuzzer targets with clang and runs
# each for a short while.  Needs root (the end-to-end tests make network namespaces, TUN
# devices and a user); re-runs itself with sudo otherwise.  Works from any directory.
#
#   bash scripts/test.sh
#   FUZZ_SECONDS=60 bash scripts/test.sh      # longer fuzzing
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
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
T0=$SECONDS
stage() { printf '\n=== [%4ss] %s\n' "$((SECONDS - T0))" "$*"; }
FAILED=()

stage "dependencies"
install_deps build-essential cmake pkg-config libssl-dev libseccomp-dev libgtest-dev googletest clang \
  iperf3 iproute2 iputils-ping socat uml-utilities net-tools faketime procps util-linux \
  passwd nftables conntrack
install_deps "$(fuzzer_runtime_pkg)"

stage "configure and build build/ (RelWithDebInfo, -j$JOBS)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$JOBS"

stage "ctest: unit and end-to-end tests"
if ! ctest --test-dir build --output-on-failure -j"$JOBS"; then
  FAILED+=("ctest (build/)")
fi

if [[ -f tests/fuzz/CMakeLists.txt ]]; then
  stage "libFuzzer targets (clang) in build-fuzz/"
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=clang++ -DSQUTUN_FUZZ=ON -DSQUTUN_TESTS=OFF
  cmake --build build-fuzz -j"$JOBS"
  mapfile -t targets < <(find build-fuzz/tests/fuzz -maxdepth 1 -type f -name 'fuzz_*' -perm -u+x | sort)
  [[ ${#targets[@]} -gt 0 ]] || FAILED+=("no fuzz_* binaries in build-fuzz/tests/fuzz")
  mkdir -p build-fuzz/fuzz-logs build-fuzz/artifacts
  for bin in "${targets[@]}"; do
    name=$(basename "$bin")
    seeds=()
    for d in "tests/fuzz/corpus/$name" "tests/fuzz/corpus/${name#fuzz_}"; do
      if [[ -d $d ]]; then
        seeds+=("$d")
        break
      fi
    done
    # new inputs go to a scratch corpus (the first directory), never into the repository
    work=build-fuzz/corpus-work/$name
    mkdir -p "$work"
    log=build-fuzz/fuzz-logs/$name.log
    printf '  %-28s %ss, seeds: %s ... ' "$name" "$FUZZ_SECONDS" "${seeds[*]:-none}"
    rc=0
    timeout $((FUZZ_SECONDS + 120)) "$bin" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 \
      -artifact_prefix="build-fuzz/artifacts/$name-" "$work" "${seeds[@]}" >"$log" 2>&1 || rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [[ $rc -eq 0 ]]; then
      echo "ok (${runs:-?} runs)"
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
