#!/usr/bin/env bash
# ctest: machine (a user, group tun, the mode of /dev/net/tun)
# test_unprivileged.sh — squtun as an unprivileged user, as README.md sets it up:
#   group "tun" may read and write /dev/net/tun; the user is in it; each end has a persistent
#   TUN device owned by the user (ip tuntap add dev tun0 mode tun user U);
#   the key file belongs to the user, mode 0600; both daemons run as the user, no capabilities.
# Then -u/--user from root (privileges dropped after setup), with --chroot on one end whose
# TUN device squtun creates itself before dropping root. Their pid files and control sockets
# sit in a directory only root may write, as /var/run/squtun is when it was made before group
# tun existed: both must still be gone when the daemons have exited.
# Every daemon has a pid file in the test's own directories, so that no control socket of the
# machine's own squtun in /var/run/squtun is replaced or removed.
# The user, the group (if created) and /dev/net/tun's owner and mode are restored at exit.
#
# usage: bash test_unprivileged.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
require_cmd useradd userdel groupadd groupdel usermod

U=sqtest$$
TUNDEV=/dev/net/tun

remove_user() {
  userdel "$1" 2>/dev/null || echo "cleanup: userdel $1 failed" >&2
  if getent group "$1" >/dev/null; then groupdel "$1"; fi
}
restore_tundev() {
  chown "$1" "$TUNDEV" && chmod "$2" "$TUNDEV"
  info "restored $TUNDEV to $(stat -c '%U:%G %a' "$TUNDEV")"
}

step "user $U, group tun, /dev/net/tun"
[[ -c $TUNDEV ]] || die "$TUNDEV missing"
if ! getent group tun >/dev/null; then
  groupadd --system tun
  atexit groupdel tun
  info "created group tun (removed at exit)"
fi
useradd --system --no-create-home --user-group --shell /usr/sbin/nologin "$U" || die "useradd $U failed"
atexit remove_user "$U"
usermod -a -G tun "$U"
U_UID=$(id -u "$U")
U_GID=$(id -g "$U")
TUN_GID=$(getent group tun | cut -d: -f3)
info "user $U uid $U_UID gid $U_GID, member of tun ($TUN_GID)"

ORIG_OWNER=$(stat -c '%u:%g' "$TUNDEV")
ORIG_MODE=$(stat -c '%a' "$TUNDEV")
atexit restore_tundev "$ORIG_OWNER" "$ORIG_MODE"
info "$TUNDEV is $(stat -c '%U:%G %a' "$TUNDEV") (restored at exit)"

netns_pair
UDIR=$E2E_TMP/home-$U
mkdir -m 0700 "$UDIR"
chown "$U:$U_GID" "$UDIR"
UKEY=$UDIR/site.key
make_key "$UKEY" "$U"
[[ $(stat -c '%U %a' "$UKEY") == "$U 600" ]] || die "key file is $(stat -c '%U %a' "$UKEY")"

tun_up "$NS_A" tun0 10.99.0.1/30 "$U"
tun_up "$NS_B" tun0 10.99.0.2/30 "$U"
for ns in "$NS_A" "$NS_B"; do
  owner=$(ip netns exec "$ns" cat /sys/class/net/tun0/owner)
  [[ $owner == "$U_UID" ]] || die "tun0 in $ns is owned by uid $owner, not $U_UID"
done
pass "tun0 in both namespaces is owned by $U ($U_UID)"

ARGS_A=(-v -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$UKEY")
ARGS_B=(-v -l 7777 -p 198.18.0.1 -r 7778 -i tun0 -k "$UKEY")

# files_gone PIDFILE... — neither the pid file nor the control socket beside it is left
files_gone() {
  local pidfile
  for pidfile in "$@"; do
    [[ ! -e $pidfile && ! -e ${pidfile%.pid}.sock ]] ||
      die "$(stat -c '%n (%U, mode %a)' "$pidfile" "${pidfile%.pid}.sock" 2>/dev/null | tr '\n' ' ')left behind by a daemon that exited"
  done
}

# check_unprivileged PID — every uid is U's, no capabilities, no root group
check_unprivileged() {
  local pid=$1 groups
  [[ $(proc_uids "$pid") == "$U_UID $U_UID $U_UID $U_UID" ]] ||
    die "pid $pid runs with uids '$(proc_uids "$pid")', expected $U_UID everywhere"
  [[ $(proc_gids "$pid") == "$U_GID $U_GID $U_GID $U_GID" ]] ||
    die "pid $pid runs with gids '$(proc_gids "$pid")', expected $U_GID everywhere"
  [[ $(proc_capeff "$pid") == 0000000000000000 ]] || die "pid $pid still has capabilities: CapEff $(proc_capeff "$pid")"
  groups=" $(awk '/^Groups:/ { $1 = ""; print }' "/proc/$pid/status") "
  [[ $groups != *" 0 "* ]] || die "pid $pid still has supplementary group 0 (root):$groups"
}

# The device as a fresh machine may have it for users outside group tun. Set here rather
# than relied on: a device left group-owned by a stale gid that the new group tun reuses
# would otherwise grant access by accident.
chown root:root "$TUNDEV"
chmod 600 "$TUNDEV"
step "without access to $TUNDEV the user's daemon fails clearly"
rc=0
ip netns exec "$NS_A" timeout 15 setpriv --reuid="$U" --regid="$U_GID" --init-groups \
  "$SQUTUN" -f "${ARGS_A[@]}" </dev/null >"$E2E_LOGS/no-access.log" 2>&1 || rc=$?
[[ $rc -ne 0 && $rc -ne 124 ]] || die "squtun as $U without access to $TUNDEV exited $rc (expected a setup error)"
grep -q "$TUNDEV" "$E2E_LOGS/no-access.log" ||
  die "the error does not name $TUNDEV: $(tail -n 3 "$E2E_LOGS/no-access.log")"
pass "exit $rc: $(tail -n 1 "$E2E_LOGS/no-access.log")"

chgrp tun "$TUNDEV"
chmod 660 "$TUNDEV"
info "$TUNDEV now $(stat -c '%U:%G %a' "$TUNDEV") (group tun, rw)"

step "both daemons as $U (setpriv), no root at any point"
start_daemon_as "$U" "$NS_A" "${ARGS_A[@]}" --pidfile "$UDIR/a.pid"
PID_A=$DAEMON_PID
start_daemon_as "$U" "$NS_B" "${ARGS_B[@]}" --pidfile "$UDIR/b.pid"
PID_B=$DAEMON_PID
wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "no ping through the tunnel run by $U within 10 s"
check_unprivileged "$PID_A"
check_unprivileged "$PID_B"
pass "pids $PID_A and $PID_B run as $U ($U_UID:$U_GID) with no capabilities"
ping_report "$NS_A" 10.99.0.2 5
ping_report "$NS_B" 10.99.0.1 5
tcp_transfer "$NS_A" "$NS_B" 10.99.0.2 5001 16
tcp_transfer "$NS_B" "$NS_A" 10.99.0.1 5002 16
stop_daemon "$PID_A" TERM
stop_daemon "$PID_B" TERM
files_gone "$UDIR/a.pid" "$UDIR/b.pid"
pass "unprivileged tunnel: ping and 16 MiB each way, sha256-checked"

step "README.md's other recipe: tunctl -u $U -t tun1 (Debian's tunctl makes a TAP device)"
require_cmd tunctl
for ns in "$NS_A" "$NS_B"; do
  ip netns exec "$ns" tunctl -u "$U" -t tun1 >/dev/null || die "tunctl -u $U -t tun1 failed in $ns"
done
tun_config "$NS_A" tun1 10.98.0.1/30
tun_config "$NS_B" tun1 10.98.0.2/30
start_daemon_as "$U" "$NS_A" -v -l 7788 -p 198.18.0.2 -r 7787 -i tun1 -k "$UKEY" --pidfile "$UDIR/a1.pid"
PID_A=$DAEMON_PID
start_daemon_as "$U" "$NS_B" -v -l 7787 -p 198.18.0.1 -r 7788 -i tun1 -k "$UKEY" --pidfile "$UDIR/b1.pid"
PID_B=$DAEMON_PID
wait_for 10 ns_ping "$NS_A" 10.98.0.2 || die "no ping through tunctl-made devices run by $U within 10 s"
check_unprivileged "$PID_A"
tcp_transfer "$NS_B" "$NS_A" 10.98.0.1 5004 8
stop_daemon "$PID_A" TERM
stop_daemon "$PID_B" TERM
files_gone "$UDIR/a1.pid" "$UDIR/b1.pid"
for ns in "$NS_A" "$NS_B"; do ip netns exec "$ns" tunctl -d tun1 >/dev/null; done
pass "tunctl-made devices: ping and 8 MiB sha256-checked as $U"

step "-u $U from root; B also --chroot and its own (transient) TUN device"
JAIL=$E2E_TMP/jail
mkdir -m 0755 "$JAIL"
RUN=$E2E_TMP/run
mkdir -m 0755 "$RUN"
IF_B=squ$$
ip -n "$NS_B" link del tun0
start_daemon "$NS_A" -u "$U" "${ARGS_A[@]}" --pidfile "$RUN/a.pid"
PID_A=$DAEMON_PID
# Sanitizer builds: inside the empty chroot there is no /proc for LeakSanitizer and no
# log_path directory, so this daemon reports to stderr (its log) and skips the leak check.
DAEMON_PREFIX=(env "ASAN_OPTIONS=${ASAN_OPTIONS}:log_path=stderr:detect_leaks=0"
  "UBSAN_OPTIONS=${UBSAN_OPTIONS}:log_path=stderr")
start_daemon "$NS_B" -u "$U" --chroot "$JAIL" -v -l 7777 -p 198.18.0.1 -r 7778 -i "$IF_B" -k "$UKEY" \
  --pidfile "$RUN/b.pid"
PID_B=$DAEMON_PID
DAEMON_PREFIX=()
wait_for 10 link_exists "$NS_B" "$IF_B" || die "squtun (root, -u $U) did not create $IF_B"
tun_config "$NS_B" "$IF_B" 10.99.0.2/30
uid_dropped() { [[ $(proc_uids "$1") == "$U_UID $U_UID $U_UID $U_UID" ]]; }
wait_for 10 uid_dropped "$PID_A" || die "squtun -u $U (pid $PID_A) still runs as uids '$(proc_uids "$PID_A")'"
wait_for 10 uid_dropped "$PID_B" || die "squtun -u $U (pid $PID_B) still runs as uids '$(proc_uids "$PID_B")'"
check_unprivileged "$PID_A"
check_unprivileged "$PID_B"
grep -E '^(Uid|Gid|CapEff):' "/proc/$PID_B/status" | sed "s/^/    [pid $PID_B] /"
root_b=$(readlink "/proc/$PID_B/root")
[[ $root_b == "$JAIL" ]] || die "squtun --chroot $JAIL (pid $PID_B) has root '$root_b'"
pass "-u dropped both daemons to $U; pid $PID_B is chrooted in $JAIL"
for f in "$RUN"/a.pid "$RUN"/b.pid "$RUN"/a.sock "$RUN"/b.sock; do
  [[ -e $f ]] || die "$f is missing while its daemon runs"
done
wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "no ping through the tunnel after -u / --chroot"
ping_report "$NS_B" 10.99.0.1 5
tcp_transfer "$NS_A" "$NS_B" 10.99.0.2 5003 8
stop_daemon "$PID_A" TERM
stop_daemon "$PID_B" TERM
wait_for 5 link_gone "$NS_B" "$IF_B" || die "$IF_B, created by squtun, outlived it"
files_gone "$RUN/a.pid" "$RUN/b.pid"
pass "tunnel works after dropping privileges; clean exit; $IF_B, pid files and sockets removed"
