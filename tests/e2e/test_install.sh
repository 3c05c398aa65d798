#!/usr/bin/env bash
# ctest: machine (make install into /usr/local, /run/squtun, users and groups)
# test_install.sh — `make install` as root, as README.md says, then `make uninstall`:
#   /usr/local/sbin/squtun (root:root 0755, the binary under test), the man page
#   /usr/local/share/man/man8/squtun.8 (0644, found by `man squtun`), the tmpfiles.d entry
#   /usr/lib/tmpfiles.d/squtun.conf, group tun (created if missing), /var/run/squtun
#   (root:tun, mode 01775, writable by group tun, sticky). The tmpfiles.d entry brings the
#   directory back after it is gone (what a reboot does to /run). `make uninstall` then
#   removes exactly what install added: the trees it touched list the same as before. The
#   directories it puts files in stay when they were there before (left by another install,
#   e.g. from another source tree, or by other software), empty or not.
#   Also: DESTDIR and PREFIX put everything into a staging tree and nothing on the machine.
# make runs in the build directory of the binary under test when that is a build of this
# source tree (so the installed binary is the one under test), else in a fresh build here;
# its record of the directories install made is the test's own (INSTALL_DIR_RECORD), so a
# developer's own `make install` from that build is neither seen nor forgotten.
# Whatever was installed before (a squtun, its man page, unit, the tmpfiles entry) is moved
# aside first and put back at exit.
#
# /run (so /var/run/squtun) and /etc are private to this test: the script runs in its own
# mount namespace with a fresh tmpfs on /run, which is what /run is after a reboot, and a
# copy-on-write view of /etc. So install really creates /var/run/squtun and group tun (which
# the view starts without), uninstall really removes the directory, and the machine's
# /var/run/squtun (with the pid files of daemons running from it) and its accounts are
# neither seen nor changed.
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
require_cmd make cmake getent groupadd setpriv cmp find
private_etc
forget_account tun

BIN=/usr/local/sbin/squtun
MAN8=/usr/local/share/man/man8
MANPAGE=$MAN8/squtun.8
TMPFILES=/usr/lib/tmpfiles.d/squtun.conf
UNIT=/usr/local/lib/systemd/system/squtun@.service
RUNDIR=/var/run/squtun
PATHS=("$BIN" "$MANPAGE" "$TMPFILES" "$UNIT")
DIR_RECORD=$E2E_TMP/install_dirs.txt
VERSION=$(sed -n 's/^project(squtun VERSION \([0-9.]*\).*/\1/p' "$REPO_ROOT/CMakeLists.txt")
[[ -n $VERSION ]] || die "no version in project() of $REPO_ROOT/CMakeLists.txt"

# ---------------------------------------------------------------------------------------------
# save the machine's state; restore it at exit

# what make uninstall (run at exit) would not remove: directories the test made itself
declare -a MADE_DIRS=()
restore_machine() {
  rm -f "$RUNDIR/.e2e-probe" "$RUNDIR/squtun-e2e0.pid"
  if [[ -n ${MAKE_BUILD:-} ]]; then
    make -C "$REPO_ROOT" -o all BUILD="$MAKE_BUILD" INSTALL_DIR_RECORD="$DIR_RECORD" uninstall \
      >"$E2E_LOGS/make-uninstall-at-exit.log" 2>&1 || echo "cleanup: make uninstall failed" >&2
  fi
  remove_made_dirs
  put_back
}
atexit restore_machine
set_aside "${PATHS[@]}"

# make_dirs DIR... — mkdir -p, noting in MADE_DIRS each directory it creates
make_dirs() {
  local line
  while IFS= read -r line; do
    MADE_DIRS+=("$(sed -n "s/^mkdir: created directory '\(.*\)'\$/\1/p" <<<"$line")")
  done < <(mkdir -pv "$@")
}
# remove_made_dirs — rmdir what make_dirs made, last made first
remove_made_dirs() {
  local i
  for ((i = ${#MADE_DIRS[@]} - 1; i >= 0; i--)); do
    if [[ -d ${MADE_DIRS[$i]} ]]; then rmdir "${MADE_DIRS[$i]}"; fi
  done
  MADE_DIRS=()
}

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

make_build_dir
# make's own target `all` (cmake --build) is taken as done (-o all): the test installs the
# binary under test as it was built, not one rebuilt from sources that changed since, and
# does not spend its time limit compiling.

# run_make LOG TARGET VARS... — make in the repo with our build directory; fails on error
run_make() {
  local log=$E2E_LOGS/$1.log
  shift
  info "make $*"
  make -C "$REPO_ROOT" -o all BUILD="$MAKE_BUILD" INSTALL_DIR_RECORD="$DIR_RECORD" "$@" >"$log" 2>&1 ||
    die "make $* failed:"$'\n'"$(tail -n 30 "$log")"
}

# ---------------------------------------------------------------------------------------------
step "make install"
run_make make-install install
expect_stat "$BIN" "regular file" root:root 755
cmp -s "$BIN" "$MAKE_BUILD/squtun" || die "$BIN differs from $MAKE_BUILD/squtun"
[[ $MAKE_BUILD != $(dirname "$SQUTUN") ]] || cmp -s "$BIN" "$SQUTUN" || die "$BIN is not the binary under test"
expect_stat "$MANPAGE" "regular file" root:root 644
cmp -s "$MANPAGE" "$REPO_ROOT/docs/squtun.8" || die "$MANPAGE differs from docs/squtun.8"
expect_stat "$TMPFILES" "regular file" root:root 644
expect_stat "$UNIT" "regular file" root:root 644
grep -q "^ExecStart=$BIN " "$UNIT" || die "$UNIT does not start $BIN: $(grep ExecStart= "$UNIT")"
grep -qxE 'd[[:space:]]+/run/squtun[[:space:]]+1775[[:space:]]+root[[:space:]]+tun[[:space:]]+-' "$TMPFILES" ||
  die "$TMPFILES has no line 'd /run/squtun 1775 root tun -':"$'\n'"$(cat "$TMPFILES")"
getent group tun >/dev/null || die "group tun does not exist after make install"
TUN_GID=$(getent group tun | cut -d: -f3)
((TUN_GID < 1000)) || die "make install created group tun with gid $TUN_GID, not a system group"
pass "make install created group tun (system gid $TUN_GID)"
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

step "make install again (idempotent, group tun there now), then make uninstall"
run_make make-install-2 install
[[ $(getent group tun | cut -d: -f3) == "$TUN_GID" ]] || die "the second make install changed group tun"
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

step "directories that were there before install stay, though empty"
# as an install from another source tree leaves them once its files are gone (or set aside),
# and $RUNDIR with the pid file of a daemon that runs from it
make_dirs "$MAN8" "$(dirname "$UNIT")" "$(dirname "$TMPFILES")" "$RUNDIR"
chown root:tun "$RUNDIR"
chmod 01775 "$RUNDIR"
touch "$RUNDIR/squtun-e2e0.pid"
snapshot >"$E2E_TMP/before-dirs.list"
run_make make-install-4 install
run_make make-uninstall-3 uninstall
for p in "$BIN" "$MANPAGE" "$TMPFILES" "$UNIT"; do
  [[ ! -e $p ]] || die "$p is still there after make uninstall"
done
[[ -f $RUNDIR/squtun-e2e0.pid ]] || die "make uninstall removed the pid file in $RUNDIR"
snapshot >"$AFTER"
diff -u "$E2E_TMP/before-dirs.list" "$AFTER" >"$E2E_LOGS/snapshot-dirs.diff" ||
  die "make uninstall removed directories it did not create:"$'\n'"$(cat "$E2E_LOGS/snapshot-dirs.diff")"
pass "make uninstall left ${MADE_DIRS[*]} (and the pid file)"
rm "$RUNDIR/squtun-e2e0.pid"
remove_made_dirs
snapshot >"$AFTER"
diff -u "$BEFORE" "$AFTER" >"$E2E_LOGS/snapshot-dirs2.diff" ||
  die "the test did not clean up after itself:"$'\n'"$(cat "$E2E_LOGS/snapshot-dirs2.diff")"

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
# install made the whole staging tree, so uninstall removes it all
[[ ! -e $STAGE ]] || die "make uninstall DESTDIR=... left:"$'\n'"$(find "$STAGE")"
pass "install and uninstall with DESTDIR=$STAGE PREFIX=/opt/squtun touched only the staging tree"
