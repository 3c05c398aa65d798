#!/usr/bin/env bash
# ctest: machine (make install into /usr/local, /run/squtun, users and groups)
# test_install.sh — `make install` as root, as README.md says, then `make uninstall`:
#   /usr/local/sbin/squtun (root:root 0755, the binary under test), the man page
#   /usr/local/share/man/man8/squtun.8 (0644, found by `man squtun`), the tmpfiles.d entry
#   /usr/lib/tmpfiles.d/squtun.conf, group tun (created if missing), /var/run/squtun
#   (root:tun, mode 01775, writable by group tun, sticky). The tmpfiles.d entry brings the
#   directory back after it is gone (what a reboot does to /run). `make uninstall` then
#   removes exactly what install added: the trees it touched list the same as before.
#   Also: DESTDIR and PREFIX put everything into a staging tree and nothing on the machine.
# make runs in the build directory of the binary under test when that is a build of this
# source tree (so the installed binary is the one under test), else in a fresh build here.
# Whatever was installed before (a squtun, its man page, the tmpfiles entry) is moved aside
# first and put back at exit; group tun is removed at exit if this test created it.
#
# /run (so /var/run/squtun) is private to this test: the script runs in its own mount
# namespace with a fresh tmpfs on /run, which is what /run is after a reboot. So install
# really creates /var/run/squtun, uninstall really removes it, and a /var/run/squtun on the
# machine (and the pid files of daemons running from it) is neither seen nor disturbed.
#
# usage: bash test_install.sh [path/to/squtun]
if [[ ${SQUTUN_E2E_PRIVATE_RUN:-} != 1 && $(id -u) -eq 0 ]]; then
  exec unshare --mount --propagation private env SQUTUN_E2E_PRIVATE_RUN=1 bash "$0" "$@"
fi
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
[[ ${SQUTUN_E2E_PRIVATE_RUN:-} == 1 ]] || die "not in a private mount namespace"
mount -t tmpfs -o mode=0755,size=16m squtun-e2e-run /run || die "cannot mount a private tmpfs on /run"
require_cmd make cmake getent groupadd groupdel setpriv cmp find

BIN=/usr/local/sbin/squtun
MAN8=/usr/local/share/man/man8
MANPAGE=$MAN8/squtun.8
TMPFILES=/usr/lib/tmpfiles.d/squtun.conf
UNIT=/usr/local/lib/systemd/system/squtun@.service
RUNDIR=/var/run/squtun
PATHS=("$BIN" "$MANPAGE" "$TMPFILES" "$UNIT")
VERSION=$(sed -n 's/^project(squtun VERSION \([0-9.]*\).*/\1/p' "$REPO_ROOT/CMakeLists.txt")
[[ -n $VERSION ]] || die "no version in project() of $REPO_ROOT/CMakeLists.txt"

# ---------------------------------------------------------------------------------------------
# save the machine's state; restore it at exit

MAN8_EXISTED=0
[[ -d $MAN8 ]] && MAN8_EXISTED=1
note_account group tun

restore_machine() {
  rm -f "$BIN" "$MANPAGE" "$TMPFILES" "$RUNDIR/.e2e-probe"
  if [[ -d $RUNDIR ]]; then rmdir "$RUNDIR"; fi
  put_back
  if [[ $MAN8_EXISTED == 0 && -d $MAN8 ]]; then rmdir "$MAN8"; fi
  drop_account_if_new group tun "this test"
}
atexit restore_machine
set_aside "${PATHS[@]}"

# snapshot — path, type, owner and mode of everything in the trees install touches
snapshot() {
  {
    find /usr/local /usr/lib/tmpfiles.d -xdev -printf '%p %y %u:%g %m\n'
    find /run/ -maxdepth 1 -name 'squtun*' -printf '%p %y %u:%g %m\n'
  } 2>/dev/null | sort
}
BEFORE=$E2E_TMP/before.list
snapshot >"$BEFORE"

# ---------------------------------------------------------------------------------------------
# the build directory make works in

BUILD_DIR=$(dirname "$SQUTUN")
if [[ -f $BUILD_DIR/CMakeCache.txt ]] &&
  grep -qxF "CMAKE_HOME_DIRECTORY:INTERNAL=$REPO_ROOT" "$BUILD_DIR/CMakeCache.txt"; then
  info "make works in $BUILD_DIR (the build of the binary under test)"
else
  BUILD_DIR=$E2E_TMP/build
  info "$SQUTUN is not in a build of $REPO_ROOT: building one in $BUILD_DIR"
  { cmake -S "$REPO_ROOT" -B "$BUILD_DIR" -DSQUTUN_TESTS=OFF && cmake --build "$BUILD_DIR" -j2; } \
    >"$E2E_LOGS/cmake.log" 2>&1 || die "cmake failed: $(tail -n 20 "$E2E_LOGS/cmake.log")"
fi
# make's own target `all` (cmake --build) is taken as done (-o all): the test installs the
# binary under test as it was built, not one rebuilt from sources that changed since, and
# does not spend its time limit compiling.

# run_make LOG TARGET VARS... — make in the repo with our build directory; fails on error
run_make() {
  local log=$E2E_LOGS/$1.log
  shift
  info "make $*"
  make -C "$REPO_ROOT" -o all BUILD="$BUILD_DIR" "$@" >"$log" 2>&1 ||
    die "make $* failed:"$'\n'"$(tail -n 30 "$log")"
}

# ---------------------------------------------------------------------------------------------
step "make install"
run_make make-install install
expect_stat "$BIN" "regular file" root:root 755
cmp -s "$BIN" "$BUILD_DIR/squtun" || die "$BIN differs from $BUILD_DIR/squtun"
[[ $BUILD_DIR != $(dirname "$SQUTUN") ]] || cmp -s "$BIN" "$SQUTUN" || die "$BIN is not the binary under test"
expect_stat "$MANPAGE" "regular file" root:root 644
cmp -s "$MANPAGE" "$REPO_ROOT/docs/squtun.8" || die "$MANPAGE differs from docs/squtun.8"
expect_stat "$TMPFILES" "regular file" root:root 644
expect_stat "$UNIT" "regular file" root:root 644
grep -q "^ExecStart=$BIN " "$UNIT" || die "$UNIT does not start $BIN: $(grep ExecStart= "$UNIT")"
grep -qxE 'd[[:space:]]+/run/squtun[[:space:]]+1775[[:space:]]+root[[:space:]]+tun[[:space:]]+-' "$TMPFILES" ||
  die "$TMPFILES has no line 'd /run/squtun 1775 root tun -':"$'\n'"$(cat "$TMPFILES")"
getent group tun >/dev/null || die "group tun does not exist after make install"
TUN_GID=$(getent group tun | cut -d: -f3)
if account_was_new group tun; then
  ((TUN_GID < 1000)) || die "make install created group tun with gid $TUN_GID, not a system group"
  pass "make install created group tun (system gid $TUN_GID)"
fi
expect_stat "$RUNDIR" directory root:tun 1775

step "the installed binary and man page work"
out=$("$BIN" -V 2>&1) || die "$BIN -V failed: $out"
[[ $out == "squtun $VERSION" ]] || die "$BIN -V printed '$out', expected 'squtun $VERSION'"
pass "$BIN -V: $out"
out=$("$BIN" -m 1500) || die "$BIN -m 1500 failed"
[[ $out == "$TUN_MTU" ]] || die "$BIN -m 1500 printed '$out', the build's binary '$TUN_MTU'"
if ! command -v man >/dev/null 2>&1; then
  info "man is missing: installing man-db"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends man-db \
    >"$E2E_LOGS/apt.log" 2>&1 || die "apt-get install man-db failed: $(tail -n 5 "$E2E_LOGS/apt.log")"
fi
where=$(man -w squtun 2>&1) || die "man -w squtun found nothing: $where"
# (/usr/local/man is a symbolic link to share/man on Debian)
[[ $(realpath "$where") == "$MANPAGE" ]] || die "man -w squtun found '$where', not $MANPAGE"
page=$(MANWIDTH=80 MANPAGER=cat PAGER=cat man squtun 2>"$E2E_LOGS/man.err") ||
  die "man squtun failed: $(cat "$E2E_LOGS/man.err")"
grep -q '^NAME' <<<"$page" || die "man squtun rendered no NAME section"
grep -q 'squtun' <<<"$page" || die "man squtun does not mention squtun"
pass "man squtun renders $MANPAGE ($(wc -l <<<"$page") lines)"

step "group tun may write in $RUNDIR (mode 01775), others may not"
setpriv --reuid=nobody --regid="$TUN_GID" --clear-groups touch "$RUNDIR/.e2e-probe" ||
  die "a process of group tun cannot create a file in $RUNDIR"
rm -f "$RUNDIR/.e2e-probe"
if setpriv --reuid=nobody --regid="$(getent group nogroup | cut -d: -f3)" --clear-groups touch "$RUNDIR/.e2e-probe" 2>/dev/null; then
  die "a process outside group tun could create a file in $RUNDIR"
fi
pass "group tun writes pid files there; others cannot"

step "the tmpfiles.d entry brings $RUNDIR back (as after a reboot)"
if command -v systemd-tmpfiles >/dev/null 2>&1; then
  rmdir "$RUNDIR"
  systemd-tmpfiles --create "$TMPFILES" || die "systemd-tmpfiles --create $TMPFILES failed"
  expect_stat "$RUNDIR" directory root:tun 1775
else
  info "systemd-tmpfiles is not installed: not checked"
fi

step "make install again (idempotent), then make uninstall"
run_make make-install-2 install
expect_stat "$RUNDIR" directory root:tun 1775
run_make make-uninstall uninstall
for p in "$BIN" "$MANPAGE" "$TMPFILES" "$RUNDIR"; do
  [[ ! -e $p ]] || die "$p is still there after make uninstall"
done
getent group tun >/dev/null || die "make uninstall removed group tun (the Makefile says it stays)"
pass "binary, man page, tmpfiles entry and $RUNDIR removed; group tun left, as documented"
AFTER=$E2E_TMP/after.list
snapshot >"$AFTER"
if ! diff -u "$BEFORE" "$AFTER" >"$E2E_LOGS/snapshot.diff"; then
  die "make uninstall did not restore what install changed:"$'\n'"$(cat "$E2E_LOGS/snapshot.diff")"
fi
pass "/usr/local, /usr/lib/tmpfiles.d and /run list the same as before make install"

step "uninstall keeps a $RUNDIR that still holds a pid file"
run_make make-install-3 install
touch "$RUNDIR/.e2e-probe"
run_make make-uninstall-2 uninstall
[[ -d $RUNDIR ]] || die "make uninstall removed $RUNDIR with a file in it"
rm -f "$RUNDIR/.e2e-probe"
rmdir "$RUNDIR"
pass "a non-empty $RUNDIR is left in place"

step "DESTDIR and PREFIX: a staging tree, nothing on the machine"
STAGE=$E2E_TMP/stage
run_make make-install-destdir install DESTDIR="$STAGE" PREFIX=/opt/squtun
expect_stat "$STAGE/opt/squtun/sbin/squtun" "regular file" root:root 755
expect_stat "$STAGE/opt/squtun/share/man/man8/squtun.8" "regular file" root:root 644
expect_stat "$STAGE/usr/lib/tmpfiles.d/squtun.conf" "regular file" root:root 644
expect_stat "$STAGE/opt/squtun/lib/systemd/system/squtun@.service" "regular file" root:root 644
expect_stat "$STAGE/var/run/squtun" directory root:tun 1775
snapshot >"$AFTER"
diff -u "$BEFORE" "$AFTER" >"$E2E_LOGS/snapshot-destdir.diff" ||
  die "make install DESTDIR=... changed the machine:"$'\n'"$(cat "$E2E_LOGS/snapshot-destdir.diff")"
run_make make-uninstall-destdir uninstall DESTDIR="$STAGE" PREFIX=/opt/squtun
left=$(find "$STAGE" -not -type d)
[[ -z $left ]] || die "make uninstall DESTDIR=... left files: $left"
[[ ! -e $STAGE/var/run/squtun ]] || die "make uninstall DESTDIR=... left $STAGE/var/run/squtun"
pass "install and uninstall with DESTDIR=$STAGE PREFIX=/opt/squtun touched only the staging tree"
