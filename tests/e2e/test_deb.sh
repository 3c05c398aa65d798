#!/usr/bin/env bash
# ctest: machine (installs the package: /usr/sbin, /run/squtun, users and groups)
# test_deb.sh — `make deb` builds squtun_VERSION-1_ARCH.deb through CPack, and lintian finds
# no error in it (its warnings are shown); it installs with `dpkg -i` and with
# `apt-get install ./squtun_*.deb` (offline: its dependencies are already installed), puts
# /usr/sbin/squtun, the gzipped man page, the tmpfiles.d entry, the copyright file and
# changelog (and the systemd unit when packaging/systemd/squtun@.service exists) in place, and
# its postinst makes group tun, the user squtun, /etc/squtun and /run/squtun (root:tun, 01775).
# `dpkg -r` / `dpkg --purge` and `apt-get remove` / `apt-get purge` then leave nothing behind:
# every path `dpkg -L squtun` listed is as it was before the package came.
# The package installs, and leaves alone, accounts and directories that were there before: a
# user squtun made by hand in group tun (useradd -g tun, or -N -G tun: no group squtun), a
# group squtun without that user, a user squtun outside group tun, an /etc/squtun with files.
# make runs in the build directory of the binary under test when that is a build of this
# source tree, else in a fresh build here; the .deb goes to the test's temp directory.
# Unowned files at the package's paths (e.g. a tmpfiles entry from `make install`) are moved
# aside and put back at exit; a squtun package installed before the test is saved with
# dpkg-repack, purged, and installed again at exit; on any failure the package is purged.
#
# /run and /etc are private to this test (its own mount namespace): a fresh tmpfs on /run, as
# after a reboot, so postinst really creates /run/squtun and postrm really removes it, and a
# /run/squtun on the machine, with the pid files of daemons running from it, is neither seen
# nor disturbed; a copy-on-write view of /etc, made anew for each case, so the accounts and
# /etc/squtun the package and the cases make never reach the machine, whatever it has.
#
# usage: bash test_deb.sh [path/to/squtun]
if [[ ${SQUTUN_E2E_PRIVATE_RUN:-} != 1 && $(id -u) -eq 0 ]]; then
  exec unshare --mount --propagation private env SQUTUN_E2E_PRIVATE_RUN=1 bash "$0" "$@"
fi
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
[[ ${SQUTUN_E2E_PRIVATE_RUN:-} == 1 ]] || die "not in a private mount namespace"
mount -t tmpfs -o mode=0755,size=16m squtun-e2e-run /run || die "cannot mount a private tmpfs on /run"
require_cmd make cmake cpack dpkg dpkg-deb dpkg-query apt-get getent useradd groupadd gzip find lintian
private_etc

export DEBIAN_FRONTEND=noninteractive
VERSION=$(sed -n 's/^project(squtun VERSION \([0-9.]*\).*/\1/p' "$REPO_ROOT/CMakeLists.txt")
[[ -n $VERSION ]] || die "no version in project() of $REPO_ROOT/CMakeLists.txt"
ARCH=$(dpkg --print-architecture)
UNIT_SRC=$REPO_ROOT/packaging/systemd/squtun@.service
EXPECTED=(/usr/sbin/squtun /usr/share/man/man8/squtun.8.gz /usr/lib/tmpfiles.d/squtun.conf
  /usr/share/doc/squtun/copyright /usr/share/doc/squtun/changelog.Debian.gz)
HAS_UNIT=0
if [[ -f $UNIT_SRC ]]; then
  HAS_UNIT=1
  EXPECTED+=(/lib/systemd/system/squtun@.service)
fi

pkg_status() { dpkg-query -W -f='${db:Status-Status}' squtun 2>/dev/null || true; }
pkg_gone() { [[ $(pkg_status) == "" || $(pkg_status) == not-installed ]]; }

# ---------------------------------------------------------------------------------------------
# save the machine's state; restore it at exit

SAVED_DIR=/var/tmp/squtun-e2e-$TEST_NAME-package.$$
SAVED_PKG=""
restore_machine() {
  if ! pkg_gone; then
    echo "cleanup: purging the squtun package" >&2
    dpkg_locked --purge squtun >&2
  fi
  put_back
  if [[ -n $SAVED_PKG ]]; then
    if dpkg_locked -i "$SAVED_PKG" >"$E2E_LOGS/dpkg-i-saved.log" 2>&1; then
      info "installed again the squtun package that was here"
      rm -rf "$SAVED_DIR"
    else
      echo "cleanup: could not install again $SAVED_PKG (the squtun package that was here):" >&2
      cat "$E2E_LOGS/dpkg-i-saved.log" >&2
    fi
  fi
}
atexit restore_machine

# dpkg_locked ARGS... — dpkg, waiting up to 120 s while another dpkg/apt holds the lock
dpkg_locked() {
  local deadline out rc
  deadline=$(($(now_ms) + 120000))
  while :; do
    rc=0
    out=$(dpkg "$@" 2>&1) || rc=$?
    printf '%s\n' "$out"
    if [[ $rc -ne 0 && $out == *"lock"* && $(now_ms) -lt $deadline ]]; then
      sleep 1
      continue
    fi
    return "$rc"
  done
}

# apt_get ARGS... — apt-get without network use, waiting up to 120 s for the dpkg lock
apt_get() {
  apt-get -q -y -o DPkg::Lock::Timeout=120 -o Acquire::Retries=0 "$@"
}

# A squtun package already installed is saved (as it is now, by dpkg-repack) and taken away
# for the test; restore_machine installs it again.
case $(pkg_status) in
  "" | not-installed) ;;
  installed)
    require_cmd dpkg-repack
    mkdir -m 0700 "$SAVED_DIR"
    (cd "$SAVED_DIR" && dpkg-repack squtun) >"$E2E_LOGS/dpkg-repack.log" 2>&1 ||
      die "dpkg-repack squtun failed:"$'\n'"$(cat "$E2E_LOGS/dpkg-repack.log")"
    SAVED_PKG=$(find "$SAVED_DIR" -name 'squtun_*.deb')
    [[ -f $SAVED_PKG ]] || die "dpkg-repack made no squtun_*.deb in $SAVED_DIR"
    info "the squtun package installed here is saved as $SAVED_PKG (installed again at exit)"
    dpkg_locked --purge squtun >"$E2E_LOGS/dpkg-purge-saved.log" 2>&1 ||
      die "dpkg --purge squtun (the package that was here) failed:"$'\n'"$(cat "$E2E_LOGS/dpkg-purge-saved.log")"
    ;;
  *)
    die "the squtun package is '$(pkg_status)' on this machine, half installed or removed: finish that first (apt-get -f install, or dpkg --purge squtun)"
    ;;
esac
# unowned files at the package's paths (e.g. from make install) would make dpkg refuse
set_aside "${EXPECTED[@]}"

# state_of PATH... — "path type owner:group mode" or "path absent", one a line
state_of() {
  local p
  for p in "$@"; do
    if [[ -e $p || -L $p ]]; then
      stat -c '%n %F %U:%G %a' "$p"
    else
      echo "$p absent"
    fi
  done
}

# ---------------------------------------------------------------------------------------------
step "make deb"
make_build_dir
# make's own target `all` (cmake --build) is taken as done (-o all): the test installs the
# binary under test as it was built, not one rebuilt from sources that changed since, and
# does not spend its time limit compiling.
DEBDIR=$E2E_TMP/deb
mkdir -m 0755 "$DEBDIR"
make -C "$REPO_ROOT" -o all BUILD="$MAKE_BUILD" DEBDIR="$DEBDIR" deb >"$E2E_LOGS/make-deb.log" 2>&1 ||
  die "make deb failed:"$'\n'"$(tail -n 30 "$E2E_LOGS/make-deb.log")"
DEB=$DEBDIR/squtun_${VERSION}-1_${ARCH}.deb
[[ -f $DEB ]] || die "make deb made no $DEB: $(ls "$DEBDIR")"
pass "$(basename "$DEB") ($(stat -c %s "$DEB") bytes)"

step "the package's control data and contents"
field() { dpkg-deb -f "$DEB" "$1"; }
[[ $(field Package) == squtun ]] || die "Package: $(field Package)"
[[ $(field Version) == "$VERSION-1" ]] || die "Version: $(field Version), expected $VERSION-1"
[[ $(field Architecture) == "$ARCH" ]] || die "Architecture: $(field Architecture)"
DEPENDS=$(field Depends)
SSL_RE='(^|[ ,])libssl3([ ,(]|$)'
[[ $DEPENDS =~ $SSL_RE ]] || die "Depends does not name libssl3: $DEPENDS"
info "Depends: $DEPENDS"
dpkg-deb -c "$DEB" | awk '{ print $1, $2, $NF }' | sed 's#\./#/#' >"$E2E_TMP/contents"
sed 's/^/    /' "$E2E_TMP/contents"
mapfile -t FILES < <(awk '$1 !~ /^d/ { print $3 }' "$E2E_TMP/contents" | sort)
mapfile -t WANT < <(printf '%s\n' "${EXPECTED[@]}" | sort)
[[ "${FILES[*]}" == "${WANT[*]}" ]] || die "the package holds: ${FILES[*]}; expected: ${WANT[*]}"
grep -qx -- '-rwxr-xr-x root/root /usr/sbin/squtun' "$E2E_TMP/contents" || die "/usr/sbin/squtun is not root 0755"
for f in "${EXPECTED[@]:1}"; do
  grep -qx -- "-rw-r--r-- root/root $f" "$E2E_TMP/contents" || die "$f is not root 0644 in the package"
done
dpkg-deb -e "$DEB" "$E2E_TMP/control"
for s in postinst prerm postrm; do
  [[ -x $E2E_TMP/control/$s ]] || die "the package has no executable $s"
done
if [[ $HAS_UNIT == 1 ]]; then
  dpkg-deb --fsys-tarfile "$DEB" | tar -xO ./lib/systemd/system/squtun@.service >"$E2E_TMP/unit"
  grep -q '^ExecStart=/usr/sbin/squtun ' "$E2E_TMP/unit" || die "the packaged unit does not run /usr/sbin/squtun"
  if grep -v '^#' "$E2E_TMP/unit" | grep -q /usr/local; then
    die "the packaged unit names /usr/local:"$'\n'"$(grep -v '^#' "$E2E_TMP/unit" | grep /usr/local)"
  fi
fi
pass "squtun $VERSION-1 $ARCH: ${#FILES[@]} files, postinst/prerm/postrm, Depends libssl3"

step "lintian"
# as nobody: lintian advises against running as root, and needs no privilege
lintian_rc=0
setpriv --reuid=nobody --regid="$(getent group nogroup | cut -d: -f3)" --clear-groups \
  env HOME=/nonexistent lintian --fail-on error "$DEB" >"$E2E_LOGS/lintian.log" 2>&1 || lintian_rc=$?
sed 's/^/    /' "$E2E_LOGS/lintian.log"
[[ $lintian_rc == 0 ]] || die "lintian found errors in $(basename "$DEB") (exit $lintian_rc)"
! grep -q '^E: ' "$E2E_LOGS/lintian.log" || die "lintian printed errors but exited 0"
pass "lintian: no errors, $(grep -c '^W: ' "$E2E_LOGS/lintian.log") warnings"

# remember, for every path the package will own, how it is now
dpkg-deb -c "$DEB" | awk '{ print $NF }' | sed -e 's#^\./#/#' -e 's#/$##' | grep -v '^$' | sort -u >"$E2E_TMP/paths"
mapfile -t PKG_PATHS <"$E2E_TMP/paths"
state_of "${PKG_PATHS[@]}" /run/squtun >"$E2E_TMP/state.before"

# check_installed HOW — the installed package works and is what it should be
check_installed() {
  local how=$1 out where page
  [[ $(pkg_status) == installed ]] || die "after $how the package is '$(pkg_status)', not installed"
  expect_stat /usr/sbin/squtun "regular file" root:root 755
  expect_stat /usr/share/man/man8/squtun.8.gz "regular file" root:root 644
  expect_stat /usr/lib/tmpfiles.d/squtun.conf "regular file" root:root 644
  [[ $HAS_UNIT == 0 ]] || expect_stat /lib/systemd/system/squtun@.service "regular file" root:root 644
  getent group tun >/dev/null || die "after $how there is no group tun"
  getent passwd squtun >/dev/null || die "after $how there is no user squtun"
  [[ -d /etc/squtun ]] || die "after $how there is no /etc/squtun"
  expect_stat /run/squtun directory root:tun 1775
  out=$(/usr/sbin/squtun -V 2>&1) || die "/usr/sbin/squtun -V failed: $out"
  [[ $out == "squtun $VERSION" ]] || die "/usr/sbin/squtun -V printed '$out'"
  out=$(/usr/sbin/squtun -m 1500) || die "/usr/sbin/squtun -m 1500 failed"
  [[ $out == "$TUN_MTU" ]] || die "/usr/sbin/squtun -m 1500 printed '$out', the build's binary '$TUN_MTU'"
  if command -v man >/dev/null 2>&1; then
    where=$(man -w squtun 2>&1) || die "man -w squtun: $where"
    page=$(MANWIDTH=80 MANPAGER=cat PAGER=cat man squtun 2>/dev/null) || die "man squtun failed"
    grep -q '^NAME' <<<"$page" || die "man squtun rendered no NAME section"
    info "man squtun: $where, $(wc -l <<<"$page") lines"
  fi
  dpkg -L squtun >"$E2E_TMP/dpkg-L"
  for p in "${EXPECTED[@]}"; do
    grep -qxF "$p" "$E2E_TMP/dpkg-L" || die "dpkg -L squtun does not list $p"
  done
  pass "$how: squtun $(/usr/sbin/squtun -V | cut -d' ' -f2) works; dpkg -L lists $(wc -l <"$E2E_TMP/dpkg-L") paths"
}

# check_removed HOW — nothing of the package is left
check_removed() {
  local how=$1
  state_of "${PKG_PATHS[@]}" /run/squtun >"$E2E_TMP/state.after"
  diff -u "$E2E_TMP/state.before" "$E2E_TMP/state.after" >"$E2E_LOGS/state.diff" ||
    die "after $how these paths are not as before the package:"$'\n'"$(cat "$E2E_LOGS/state.diff")"
  pass "$how: every path the package listed is as before, /run/squtun gone"
}

# fresh_etc NAME... — a new view of /etc without /etc/squtun and without the accounts NAME
fresh_etc() {
  private_etc
  forget_account "$@"
  rm -rf /etc/squtun
}

# accounts — the user squtun and the groups tun and squtun as the account files have them
accounts() {
  getent passwd squtun || true
  getent group tun squtun || true
  id squtun 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------------
step "a machine without the package's accounts: dpkg -i (twice), dpkg -r, dpkg --purge"
fresh_etc squtun tun
dpkg_locked -i "$DEB" >"$E2E_LOGS/dpkg-i.log" 2>&1 || die "dpkg -i failed:"$'\n'"$(cat "$E2E_LOGS/dpkg-i.log")"
check_installed "dpkg -i"
TUN_GID=$(getent group tun | cut -d: -f3)
((TUN_GID < 1000)) || die "postinst made group tun with gid $TUN_GID, not a system group"
SQUTUN_UID=$(id -u squtun)
((SQUTUN_UID < 1000)) || die "postinst made user squtun with uid $SQUTUN_UID, not a system user"
[[ $(id -gn squtun) == squtun && " $(id -nG squtun) " == *" tun "* ]] ||
  die "postinst made user squtun as '$(id squtun)', not in groups squtun (primary) and tun"
expect_stat /etc/squtun directory root:squtun 750
accounts >"$E2E_TMP/accounts.made"
dpkg_locked -i "$DEB" >>"$E2E_LOGS/dpkg-i.log" 2>&1 || die "dpkg -i over the installed package failed"
check_installed "dpkg -i again"
accounts | diff -u "$E2E_TMP/accounts.made" - || die "installing again changed the accounts"
dpkg_locked -r squtun >"$E2E_LOGS/dpkg-r.log" 2>&1 || die "dpkg -r failed:"$'\n'"$(cat "$E2E_LOGS/dpkg-r.log")"
st=$(pkg_status)
[[ $st == config-files || $st == not-installed || -z $st ]] || die "after dpkg -r the package is '$st'"
check_removed "dpkg -r"
dpkg_locked --purge squtun >"$E2E_LOGS/dpkg-purge.log" 2>&1 || die "dpkg --purge failed:"$'\n'"$(cat "$E2E_LOGS/dpkg-purge.log")"
pkg_gone || die "after dpkg --purge the package is '$(pkg_status)'"
check_removed "dpkg --purge"
[[ ! -e /etc/squtun ]] || die "dpkg --purge left an empty /etc/squtun"
accounts | diff -u "$E2E_TMP/accounts.made" - || die "dpkg --purge changed the accounts (they stay, as documented)"
pass "postinst made group tun (gid $TUN_GID), user squtun (uid $SQUTUN_UID) and /etc/squtun; they stay after a purge"

step "apt-get install ./$(basename "$DEB"), apt-get remove, apt-get purge (offline; the accounts are there)"
(cd "$DEBDIR" && apt_get install "./$(basename "$DEB")") >"$E2E_LOGS/apt-install.log" 2>&1 ||
  die "apt-get install ./$(basename "$DEB") failed:"$'\n'"$(tail -n 30 "$E2E_LOGS/apt-install.log")"
check_installed "apt-get install"
apt_get remove squtun >"$E2E_LOGS/apt-remove.log" 2>&1 ||
  die "apt-get remove squtun failed:"$'\n'"$(tail -n 30 "$E2E_LOGS/apt-remove.log")"
check_removed "apt-get remove"
apt_get purge squtun >"$E2E_LOGS/apt-purge.log" 2>&1 ||
  die "apt-get purge squtun failed:"$'\n'"$(tail -n 30 "$E2E_LOGS/apt-purge.log")"
pkg_gone || die "after apt-get purge the package is '$(pkg_status)'"
check_removed "apt-get purge"

step "purge removes a /run/squtun that still holds files (a stale pid file)"
dpkg_locked -i "$DEB" >>"$E2E_LOGS/dpkg-i.log" 2>&1 || die "dpkg -i failed (second time)"
echo 12345 >/run/squtun/squtun-e2e0.pid
dpkg_locked -r squtun >>"$E2E_LOGS/dpkg-r.log" 2>&1 || die "dpkg -r failed (second time)"
[[ -f /run/squtun/squtun-e2e0.pid ]] || die "dpkg -r removed a non-empty /run/squtun (a running daemon's pid file)"
dpkg_locked --purge squtun >>"$E2E_LOGS/dpkg-purge.log" 2>&1 || die "dpkg --purge failed (second time)"
check_removed "dpkg -r with a pid file left, then --purge"

# ---------------------------------------------------------------------------------------------
# install_over CASE GROUP [NOTE] — in a fresh view of /etc that CASE's commands (run before)
# set up, apt-get install ./DEB works and keeps a user squtun that was there as it was;
# /etc/squtun gets the group GROUP (that squtun runs as); postinst says NOTE if given; then
# the package is purged again
install_over() {
  local case=$1 group=$2 note=${3:-} log had_user=0
  log=$E2E_LOGS/apt-install-$(tr -c 'a-z0-9\n' - <<<"$case").log
  accounts >"$E2E_TMP/accounts.before"
  if getent passwd squtun >/dev/null; then had_user=1; fi
  (cd "$DEBDIR" && apt_get install "./$(basename "$DEB")") >"$log" 2>&1 ||
    die "$case: apt-get install ./$(basename "$DEB") failed:"$'\n'"$(tail -n 30 "$log")"
  check_installed "$case: apt-get install"
  if [[ $had_user == 1 ]]; then
    accounts | diff -u "$E2E_TMP/accounts.before" - || die "$case: the package changed the accounts"
  fi
  [[ $(stat -c %G /etc/squtun) == "$group" ]] || die "$case: /etc/squtun has group $(stat -c %G /etc/squtun), not $group"
  if [[ -n $note ]]; then
    grep -qF "$note" "$log" || die "$case: postinst did not say '$note'"
  fi
  dpkg_locked --purge squtun >>"$E2E_LOGS/dpkg-purge.log" 2>&1 || die "$case: dpkg --purge failed"
  check_removed "$case: dpkg --purge"
}

step "a user squtun made by hand in group tun, without a group squtun"
fresh_etc squtun tun
groupadd --system tun
useradd --system -g tun --no-create-home --shell /bin/sh squtun
install_over "useradd -g tun squtun" tun
fresh_etc squtun tun
groupadd --system tun
useradd -N -G tun --no-create-home --shell /bin/sh squtun
install_over "useradd -N -G tun squtun" "$(id -gn squtun)"

step "a group squtun without a user squtun"
fresh_etc squtun
groupadd --system squtun
install_over "groupadd squtun" squtun
[[ $(id -gn squtun) == squtun ]] || die "the user squtun's primary group is $(id -gn squtun), not the group squtun that was there"

step "a user squtun outside group tun"
fresh_etc squtun tun
groupadd --system tun
useradd --system --user-group --no-create-home --shell /usr/sbin/nologin squtun
install_over "useradd squtun (no tun)" squtun "usermod -a -G tun squtun"

step "an /etc/squtun set up before the package"
fresh_etc squtun tun
mkdir -m 0755 /etc/squtun
echo "listen = 7777" >/etc/squtun/tun0.conf
install_over "/etc/squtun with tun0.conf" root
expect_stat /etc/squtun directory root:root 755
[[ $(cat /etc/squtun/tun0.conf) == "listen = 7777" ]] || die "the package changed /etc/squtun/tun0.conf"
pass "an existing /etc/squtun and its files stay as they were, through install and purge"
