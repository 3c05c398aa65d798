#!/usr/bin/env bash
# ctest: machine (holds the package manager's lock, /var/lib/dpkg/lock-frontend, for seconds)
# test_deps_lock.sh — scripts/deps.sh while another apt or dpkg holds the package manager's
# lock (a fresh machine runs one at boot): install_deps waits for it and then installs; with a
# deadline (SQUTUN_APT_LOCK_TIMEOUT) it gives up and names the process that holds the lock.
# The lock is held by `flock` (flock(2)) and by python3 with fcntl(2), the kind apt and dpkg
# take. apt-get is a stand-in on PATH that logs its arguments and the time, so nothing is
# installed; the package asked for is one no system has.
#
# usage: bash test_deps_lock.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
require_cmd flock python3 dpkg-query

LOCK=/var/lib/dpkg/lock-frontend
[[ -e $LOCK ]] || die "$LOCK does not exist: not a Debian-style system"
PACKAGE=squtun-e2e-no-such-package
APT_LOG=$E2E_TMP/apt-get.calls
mkdir "$E2E_TMP/bin"
cat >"$E2E_TMP/bin/apt-get" <<'EOF'
#!/bin/sh
echo "$(date +%s%3N) $*" >>"$APT_LOG"
EOF
chmod +x "$E2E_TMP/bin/apt-get"

# run_deps TIMEOUT [VAR=VALUE...] — install_deps PACKAGE in a fresh bash with the stand-in
# apt-get; sets DEPS_RC, DEPS_LOG (its output) and DEPS_MS (how long it took)
RUNS=0
run_deps() {
  local timeout=$1 t0
  shift
  RUNS=$((RUNS + 1))
  DEPS_LOG=$E2E_LOGS/deps-$RUNS.log
  DEPS_RC=0
  t0=$(now_ms)
  env PATH="$E2E_TMP/bin:$PATH" APT_LOG="$APT_LOG" SQUTUN_APT_LOCK_TIMEOUT="$timeout" "$@" \
    bash -c 'source "$1" && install_deps "$2"' _ "$REPO_ROOT/scripts/deps.sh" "$PACKAGE" \
    >"$DEPS_LOG" 2>&1 || DEPS_RC=$?
  DEPS_MS=$(($(now_ms) - t0))
  sed 's/^/    /' "$DEPS_LOG"
}

# hold_lock flock|fcntl SECS — a helper that takes LOCK, holds it SECS seconds and writes the
# time it lets go to $E2E_TMP/released; returns once it holds the lock (HOLDER_PID)
hold_lock() {
  local kind=$1 secs=$2
  rm -f "$E2E_TMP/released"
  case $kind in
    flock)
      spawn helper "hold-$kind" - flock --exclusive --wait 60 "$LOCK" \
        sh -c 'echo locked; sleep "$1"; date +%s%3N >"$2"' _ "$secs" "$E2E_TMP/released"
      ;;
    fcntl)
      spawn helper "hold-$kind" - python3 -c '
import fcntl, sys, time
with open(sys.argv[1], "r+") as f:
    fcntl.lockf(f, fcntl.LOCK_EX)
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    with open(sys.argv[3], "w") as out:
        out.write(str(int(time.time() * 1000)))' "$LOCK" "$secs" "$E2E_TMP/released"
      ;;
  esac
  HOLDER_PID=$SPAWN_PID
  wait_for 60 grep -qx locked "$SPAWN_LOG" || die "the $kind helper did not get $LOCK within 60 s"
  info "pid $HOLDER_PID ($kind) holds $LOCK for $secs s"
}

apt_calls() { if [[ -f $APT_LOG ]]; then wc -l <"$APT_LOG"; else echo 0; fi; }

# ---------------------------------------------------------------------------------------------
step "no other package manager: install_deps goes straight to apt-get"
run_deps 600
[[ $DEPS_RC == 0 ]] || die "install_deps $PACKAGE failed (exit $DEPS_RC)"
((DEPS_MS < 5000)) || die "install_deps took $DEPS_MS ms with the lock free"
grep -q " update .*-o DPkg::Lock::Timeout=[0-9]" "$APT_LOG" ||
  die "apt-get update was not called with DPkg::Lock::Timeout:"$'\n'"$(cat "$APT_LOG")"
grep -q " install .*-o DPkg::Lock::Timeout=[0-9].* $PACKAGE\$" "$APT_LOG" ||
  die "apt-get install $PACKAGE was not called with DPkg::Lock::Timeout:"$'\n'"$(cat "$APT_LOG")"
pass "apt-get update and install called at once, each told to wait for the lock too"

step "flock holds $LOCK for 4 s: install_deps waits, then installs"
rm -f "$APT_LOG"
hold_lock flock 4
run_deps 120
[[ $DEPS_RC == 0 ]] || die "install_deps failed (exit $DEPS_RC) instead of waiting"
grep -q "waiting up to .* for another package manager" "$DEPS_LOG" || die "install_deps did not say it waits"
grep -qF "$LOCK is held by process $HOLDER_PID (flock)" "$DEPS_LOG" || die "install_deps did not name the holder"
[[ -f $E2E_TMP/released ]] || die "install_deps returned before the holder let go of the lock"
first_call=$(head -n 1 "$APT_LOG" | cut -d' ' -f1)
released=$(cat "$E2E_TMP/released")
((first_call >= released)) || die "apt-get ran $((released - first_call)) ms before the lock was free"
reap "$HOLDER_PID" 10 || die "the flock helper still runs"
pass "waited $DEPS_MS ms, apt-get ran $((first_call - released)) ms after the lock was free"

step "python3 holds $LOCK with fcntl (as apt does), deadline 2 s: install_deps gives up, naming it"
rm -f "$APT_LOG"
hold_lock fcntl 60
run_deps 600 SQUTUN_NO_INSTALL=1
[[ $DEPS_RC == 0 && $DEPS_MS -lt 5000 ]] ||
  die "with SQUTUN_NO_INSTALL=1 (nothing to install) install_deps took $DEPS_MS ms, exit $DEPS_RC"
grep -q "missing (SQUTUN_NO_INSTALL=1, not installing): $PACKAGE" "$DEPS_LOG" || die "SQUTUN_NO_INSTALL=1 did not report $PACKAGE"
run_deps 2
[[ $DEPS_RC != 0 ]] || die "install_deps returned 0 while the lock was held past its deadline"
((DEPS_MS >= 2000 && DEPS_MS < 10000)) || die "install_deps gave up after $DEPS_MS ms, deadline 2 s"
grep -q "gave up waiting for another package manager" "$DEPS_LOG" || die "no clear message on giving up"
grep -qF "$LOCK is held by process $HOLDER_PID (python3)" "$DEPS_LOG" || die "the message does not name the holder"
grep -q "SQUTUN_APT_LOCK_TIMEOUT" "$DEPS_LOG" || die "the message does not say how to wait longer"
[[ $(apt_calls) == 0 ]] || die "apt-get ran although the lock was held:"$'\n'"$(cat "$APT_LOG")"
stop_helper "$HOLDER_PID"
pass "gave up after $DEPS_MS ms naming pid $HOLDER_PID (python3); apt-get never ran"
