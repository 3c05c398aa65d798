#!/usr/bin/env bash
# ctest: machine (systemd units, users, group tun, /dev/net/tun, /run/squtun)
# test_systemd.sh — packaging/systemd/squtun@.service, the way an administrator uses it:
#   1. squtun@.service is squtun@.service.in configured for /usr/local/sbin (CMake's
#      configure_file), and the .in file also configures for /usr/sbin (a package)
#   2. `systemd-analyze verify` passes on the unit (both paths, with an address drop-in) and
#      fails on a broken copy; the sandboxing options are all there; the offline security
#      exposure stays low
#   3. tun0.conf.example parses (`squtun --config FILE -m 1500`)
#   4. the unit's own command lines, read from the unit file, run as systemd would run them for
#      an instance in each of two namespaces (squtun@sqaPID, squtun@sqbPID: they share
#      /run/squtun): ExecStartPre (root) makes the device; a drop-in gives A its address, and
#      B's comes from its config file through the unit's `squtun --setup-device` line;
#      ExecStart runs squtun --config /etc/squtun/IFNAME.conf (the example, with test
#      addresses) as an unprivileged user with no capabilities, no_new_privs and a read-only
#      file system but for ReadWritePaths=; ping both ways, nothing logged at the default
#      level, `squtun show`, SIGUSR1 counters on stderr, ExecReload re-reads the config,
#      SIGTERM, ExecStopPost removes the
#      device.  A device the unit did not make is left alone; one it left behind is replaced;
#      tap = yes makes a TAP device with the smaller MTU.
#   5. if systemd is PID 1: the real unit through systemctl, in a test namespace
#      (NetworkNamespacePath=); otherwise skipped with a note.
# /etc/squtun stands for a temp directory throughout; the user is a temporary one, not squtun.
#
# usage: bash test_systemd.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
require_cmd useradd userdel groupadd groupdel usermod unshare findmnt mount

UNIT_SRC=$REPO_ROOT/packaging/systemd
UNIT_IN=$UNIT_SRC/squtun@.service.in
UNIT=$UNIT_SRC/squtun@.service
EXAMPLE=$UNIT_SRC/tun0.conf.example
for f in "$UNIT_IN" "$UNIT" "$EXAMPLE"; do
  [[ -f $f ]] || die "$f is missing"
done

# The tools: systemd-analyze (package systemd) and cmake.  Installed if missing, unless
# SQUTUN_NO_INSTALL=1.
ensure_cmd() {
  local cmd=$1 pkg=$2
  command -v "$cmd" >/dev/null 2>&1 && return 0
  [[ ${SQUTUN_NO_INSTALL:-0} != 1 ]] || die "$cmd is missing (package $pkg) and SQUTUN_NO_INSTALL=1"
  info "installing $pkg for $cmd"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$pkg" >"$E2E_LOGS/apt-$pkg.log" 2>&1 ||
    die "apt-get install $pkg failed (see $E2E_LOGS/apt-$pkg.log)"
  command -v "$cmd" >/dev/null 2>&1 || die "$cmd still missing after installing $pkg"
}
ensure_cmd systemd-analyze systemd
ensure_cmd cmake cmake

# ---------------------------------------------------------------------------------------------
step "1. squtun@.service is squtun@.service.in configured for /usr/local/sbin"

# render IN OUT SBINDIR — CMake's configure_file(@ONLY), as the build does
render() {
  # shellcheck disable=SC2016  # ${IN} and ${OUT} are CMake's
  printf 'configure_file(${IN} ${OUT} @ONLY)\n' >"$E2E_TMP/render.cmake"
  cmake -DIN="$1" -DOUT="$2" -DCMAKE_INSTALL_FULL_SBINDIR="$3" -P "$E2E_TMP/render.cmake" ||
    die "cmake configure_file of $1 failed"
}
render "$UNIT_IN" "$E2E_TMP/rendered-local.service" /usr/local/sbin
if ! diff -u "$UNIT" "$E2E_TMP/rendered-local.service" >"$E2E_LOGS/unit-diff.log"; then
  cat "$E2E_LOGS/unit-diff.log" >&2
  die "packaging/systemd/squtun@.service differs from squtun@.service.in configured for /usr/local/sbin: regenerate it"
fi
render "$UNIT_IN" "$E2E_TMP/rendered-usr.service" /usr/sbin
grep -q '@[A-Za-z_]*@' "$E2E_TMP/rendered-usr.service" && die "unsubstituted @VAR@ left in the rendered unit"
grep -q '^ExecStart=/usr/sbin/squtun ' "$E2E_TMP/rendered-usr.service" ||
  die "the unit configured for /usr/sbin does not start /usr/sbin/squtun"
grep -q '^ExecStart=/usr/local/sbin/squtun --config /etc/squtun/%i.conf --foreground --interface %i$' "$UNIT" ||
  die "ExecStart is not '/usr/local/sbin/squtun --config /etc/squtun/%i.conf --foreground --interface %i'"
pass "the .in file configures to the committed unit (/usr/local/sbin) and to /usr/sbin"

# ---------------------------------------------------------------------------------------------
step "2. systemd-analyze verify, sandboxing options, security exposure"

VERIFY_DIR=$E2E_TMP/units
mkdir -p "$VERIFY_DIR/man/man8" "$VERIFY_DIR/squtun@tun0.service.d"
# Documentation=man:squtun(8) is checked by verify: offer it the page from the tree.
cp "$REPO_ROOT/docs/squtun.8" "$VERIFY_DIR/man/man8/squtun.8"
printf '[Service]\nExecStartPre=+/sbin/ip address add 10.99.0.1/30 dev %%i\n' \
  >"$VERIFY_DIR/squtun@tun0.service.d/address.conf"

# verify_unit SOURCE LABEL — verify SOURCE as squtun@tun0.service, its binary path pointed at
# the binary under test (verify refuses a missing ExecStart binary); 1 if verify complains
verify_unit() {
  local src=$1 label=$2 out rc=0
  sed -e "s#/usr/local/sbin/squtun#$SQUTUN#g" -e "s#/usr/sbin/squtun#$SQUTUN#g" "$src" >"$VERIFY_DIR/squtun@.service"
  out=$(cd "$VERIFY_DIR" && MANPATH=$VERIFY_DIR/man SYSTEMD_LOG_COLOR=0 \
    systemd-analyze verify "$VERIFY_DIR/squtun@tun0.service" 2>&1) || rc=$?
  printf '### verify %s (rc %d)\n%s\n' "$label" "$rc" "$out" >>"$E2E_LOGS/verify.log"
  # verify only warns about unknown keys or bad quoting: any line about our unit is a failure
  if [[ $rc -ne 0 ]] || grep -q 'squtun' <<<"$out"; then
    VERIFY_OUT=$out
    return 1
  fi
  [[ -z $out ]] || info "verify $label printed (not about squtun, ignored): $out"
  return 0
}
VERIFY_OUT=""
verify_unit "$UNIT" "/usr/local/sbin" || die "systemd-analyze verify failed on squtun@.service:"$'\n'"$VERIFY_OUT"
verify_unit "$E2E_TMP/rendered-usr.service" "/usr/sbin" ||
  die "systemd-analyze verify failed on the unit configured for /usr/sbin:"$'\n'"$VERIFY_OUT"
pass "systemd-analyze verify: no complaint (with the address drop-in)"

# It can fail: a misspelt key and a broken quote are caught.
sed 's/^ProtectSystem=strict/ProtectSystm=strict/' "$UNIT" >"$E2E_TMP/broken1.service"
verify_unit "$E2E_TMP/broken1.service" "misspelt key" && die "verify did not notice a misspelt key"
sed "0,/^ExecStopPost=-+\/bin\/sh -c '/s//ExecStopPost=-+\/bin\/sh -c /" "$UNIT" >"$E2E_TMP/broken2.service"
cmp -s "$UNIT" "$E2E_TMP/broken2.service" && die "could not break the unit's quoting for the negative check"
verify_unit "$E2E_TMP/broken2.service" "unbalanced quote" && die "verify did not notice unbalanced quoting"
verify_unit "$UNIT" "/usr/local/sbin again" || die "verify fails on the unit after the negative checks"
pass "verify does complain about a misspelt key and a broken quote"

# unit_values FILE KEY — the values of KEY= in FILE, continuation lines joined, one per line
unit_values() {
  awk -v key="$2" '
    cont { line = line " " $0; if (sub(/\\$/, "", line)) next; print line; cont = 0; next }
    index($0, key "=") == 1 {
      line = substr($0, length(key) + 2)
      if (sub(/\\$/, "", line)) { cont = 1; next }
      print line
    }' "$1"
}
# Every option the unit must carry, exactly.
declare -A WANT=(
  [User]=squtun [NoNewPrivileges]=yes [ProtectSystem]=strict [ProtectHome]=yes [PrivateTmp]=yes
  [ProtectKernelTunables]=yes [ProtectKernelModules]=yes [ProtectKernelLogs]=yes
  [ProtectControlGroups]=yes [ProtectClock]=yes [ProtectHostname]=yes
  [RestrictAddressFamilies]="AF_INET AF_INET6 AF_UNIX AF_NETLINK" [RestrictNamespaces]=yes
  [LockPersonality]=yes [MemoryDenyWriteExecute]=yes [RestrictRealtime]=yes [RestrictSUIDSGID]=yes
  [SystemCallArchitectures]=native [CapabilityBoundingSet]="" [AmbientCapabilities]=""
  [DeviceAllow]="/dev/net/tun rw" [Restart]=on-failure [Type]=exec [WantedBy]=multi-user.target
)
for key in "${!WANT[@]}"; do
  got=$(unit_values "$UNIT" "$key")
  [[ $(grep -c '' <<<"$got") -eq 1 && $got == "${WANT[$key]}" ]] ||
    die "squtun@.service: expected exactly '$key=${WANT[$key]}', found: '$got'"
done
for key in DynamicUser PrivateNetwork PrivateDevices; do
  [[ -z $(unit_values "$UNIT" "$key") ]] || die "squtun@.service sets $key= (the design does not)"
done
pass "all ${#WANT[@]} required settings present; no capability for the daemon"

sed -e "s#/usr/local/sbin/squtun#$SQUTUN#g" "$UNIT" >"$VERIFY_DIR/squtun@.service"
SEC=$(cd "$VERIFY_DIR" && MANPATH=$VERIFY_DIR/man systemd-analyze security --offline=yes --no-pager \
  "$VERIFY_DIR/squtun@tun0.service" 2>&1) || true
printf '%s\n' "$SEC" >"$E2E_LOGS/security.log"
EXPOSURE=$(sed -n 's/.*Overall exposure level for squtun@tun0.service: \([0-9.]*\).*/\1/p' <<<"$SEC")
[[ -n $EXPOSURE ]] || die "systemd-analyze security --offline printed no exposure level:"$'\n'"$(tail -n 5 <<<"$SEC")"
awk -v e="$EXPOSURE" 'BEGIN { exit !(e <= 4.0) }' ||
  die "security exposure $EXPOSURE is above 4.0 (see $E2E_LOGS/security.log)"
pass "systemd-analyze security --offline: exposure $EXPOSURE (at most 4.0)"

# ---------------------------------------------------------------------------------------------
step "3. tun0.conf.example parses"
out=$("$SQUTUN" --config "$EXAMPLE" -m 1500 2>&1) || die "squtun --config tun0.conf.example -m 1500 failed: $out"
[[ $out == "$TUN_MTU" ]] || die "squtun --config tun0.conf.example -m 1500 printed '$out', expected $TUN_MTU"
for setting in listen peer peer-port key; do
  grep -Eq "^$setting = " "$EXAMPLE" || die "tun0.conf.example does not set '$setting = ...'"
done
pass "squtun --config tun0.conf.example -m 1500 -> $out"

# ---------------------------------------------------------------------------------------------
step "4. the unit's command lines, as systemd runs them, in two namespaces"

U=sqsd$$
TUNDEV=/dev/net/tun
remove_user() {
  userdel "$1" 2>/dev/null || echo "cleanup: userdel $1 failed" >&2
  if getent group "$1" >/dev/null; then groupdel "$1"; fi
}
restore_tundev() { chown "$1" "$TUNDEV" && chmod "$2" "$TUNDEV"; }
if ! getent group tun >/dev/null; then
  groupadd --system tun
  atexit groupdel tun
fi
useradd --system --no-create-home --user-group --shell /usr/sbin/nologin "$U" || die "useradd $U failed"
atexit remove_user "$U"
usermod -a -G tun "$U"
U_UID=$(id -u "$U")
U_GID=$(id -g "$U")
# As the README says: /dev/net/tun must be usable by the user (group tun, rw) if it is not 0666.
ORIG_MODE=$(stat -c '%a' "$TUNDEV")
if [[ $(((8#$ORIG_MODE) & 8#006)) -ne 6 ]]; then
  atexit restore_tundev "$(stat -c '%u:%g' "$TUNDEV")" "$ORIG_MODE"
  chgrp tun "$TUNDEV"
  chmod 660 "$TUNDEV"
  info "$TUNDEV: group tun, mode 660 (restored to $ORIG_MODE at exit)"
fi
info "user $U ($U_UID:$U_GID), in group tun"

netns_pair
# Each end an instance of its own (squtun@IFNAME): the two daemons share /run/squtun, where
# each puts its control socket squtun-IFNAME.sock.  In the sandbox /run is a private tmpfs
# and /run/squtun this directory, made as tmpfiles.d/squtun.conf makes it (root:tun 01775),
# so neither the host's /run/squtun nor other tests interfere.
IF_A=sqa$$
IF_B=sqb$$
RUNSQ=/run/squtun
RUNSQ_TEST=$E2E_TMP/run-squtun
install -d -m 01775 -o root -g tun "$RUNSQ_TEST"

# Each end's /etc/squtun: the example with test addresses, ports and key path.
KEY_SRC=$E2E_TMP/site.key
make_key "$KEY_SRC"
# make_etc DIR IFNAME LISTEN PEER PEERPORT — DIR/IFNAME.conf from the example, DIR/IFNAME.key
make_etc() {
  local dir=$1 ifn=$2
  mkdir -p "$dir"
  chmod 0755 "$dir"
  install -m 0600 -o "$U" -g "$U_GID" "$KEY_SRC" "$dir/$ifn.key"
  sed -e "s/^listen = .*/listen = $3/" -e "s/^peer = .*/peer = $4/" -e "s/^peer-port = .*/peer-port = $5/" \
    -e "s#^key = /etc/squtun/tun0.key\$#key = $dir/$ifn.key#" "$EXAMPLE" >"$dir/$ifn.conf"
  chmod 0644 "$dir/$ifn.conf"
  if ! grep -q "^peer = $4\$" "$dir/$ifn.conf" || ! grep -q "^key = $dir/$ifn.key\$" "$dir/$ifn.conf"; then
    die "could not adapt the example config in $dir"
  fi
}
ETC_A=$E2E_TMP/etc-a
ETC_B=$E2E_TMP/etc-b
make_etc "$ETC_A" "$IF_A" 7778 198.18.0.2 7777
make_etc "$ETC_B" "$IF_B" 7777 198.18.0.1 7778

# unit_cmd LINE ETC IFNAME — a unit command line with the test's stand-ins: %i, $$,
# /etc/squtun, the binary, the user.  Sets CMD (without the prefix) and PRIVILEGED (1 if "+").
CMD="" PRIVILEGED=0
unit_cmd() {
  local c=$1 etc=$2 ifn=$3 prefix
  prefix=${c%%[!-+@:!]*}
  c=${c#"$prefix"}
  PRIVILEGED=0
  [[ $prefix == *+* ]] && PRIVILEGED=1
  c=${c//%i/$ifn}
  c=${c//%I/$ifn}
  c=${c//'$$'/'$'}
  c=${c//\/etc\/squtun\//$etc\/}
  c=${c//\/usr\/local\/sbin\/squtun/$SQUTUN}
  c=${c//user squtun/user $U}
  CMD=$c
}
mapfile -t PRE < <(unit_values "$UNIT" ExecStartPre)
mapfile -t POST < <(unit_values "$UNIT" ExecStopPost)
START=$(unit_values "$UNIT" ExecStart)
ENVIRONMENT=$(unit_values "$UNIT" Environment)
RW_PATHS=$(unit_values "$UNIT" ReadWritePaths | sed 's/^-//')
[[ ${#PRE[@]} -ge 1 && ${#POST[@]} -ge 1 ]] || die "the unit has no ExecStartPre= or no ExecStopPost="
[[ $ENVIRONMENT =~ ^[A-Z_]+=[^\ ]+$ ]] || die "unexpected Environment= line: '$ENVIRONMENT'"
[[ $RW_PATHS == "$RUNSQ" ]] || die "ReadWritePaths= is '$RW_PATHS', expected only $RUNSQ (the control socket)"
DROPIN_PRE=$(unit_values "$VERIFY_DIR/squtun@tun0.service.d/address.conf" ExecStartPre)

# start_pre NS ETC IFNAME ADDR — the unit's ExecStartPre lines, then the drop-in's (the
# address); ADDR "config": no drop-in, the config file has an address line
start_pre() {
  local ns=$1 etc=$2 ifn=$3 addr=$4 line lines=("${PRE[@]}")
  [[ $addr == config ]] || lines+=("${DROPIN_PRE/10.99.0.1\/30/$addr}")
  for line in "${lines[@]}"; do
    unit_cmd "$line" "$etc" "$ifn"
    [[ $PRIVILEGED == 1 ]] || die "ExecStartPre line without '+' (needs root to make the device): $line"
    printf '### ExecStartPre in %s: %s\n' "$ns" "$CMD" >>"$E2E_LOGS/unit-commands.log"
    ip netns exec "$ns" env "$ENVIRONMENT" timeout 20 bash -c "$CMD" >>"$E2E_LOGS/unit-commands.log" 2>&1 || return 1
  done
}
# stop_post NS ETC IFNAME — the unit's ExecStopPost lines ("-": failure ignored, as systemd does)
stop_post() {
  local ns=$1 etc=$2 ifn=$3 line
  for line in "${POST[@]}"; do
    unit_cmd "$line" "$etc" "$ifn"
    [[ $PRIVILEGED == 1 ]] || die "ExecStopPost line without '+': $line"
    printf '### ExecStopPost in %s: %s\n' "$ns" "$CMD" >>"$E2E_LOGS/unit-commands.log"
    ip netns exec "$ns" env "$ENVIRONMENT" timeout 20 bash -c "$CMD" >>"$E2E_LOGS/unit-commands.log" 2>&1 || true
  done
}

# The sandbox, as far as it can be had without systemd: User= (with its groups), no
# capabilities in any set (CapabilityBoundingSet=, AmbientCapabilities=), no_new_privs, and
# every mount read-only except /dev, /proc, /sys (ProtectSystem=strict) and ReadWritePaths=;
# the sanitizer report directory stays writable.  All execs: the recorded PID is squtun's.
# shellcheck disable=SC2016  # expanded by the sandbox's shell
SANDBOX_SCRIPT='
  set -eu
  mount -t tmpfs -o mode=0755,size=1m sandbox-run /run
  mkdir /run/squtun
  mount --bind "$RUN_SQUTUN" /run/squtun
  findmnt -rn -o TARGET | while read -r m; do
    m=$(printf "%b" "$m")
    # (mounts below /run are hidden under the private /run now)
    case $m in /dev | /dev/* | /proc | /proc/* | /sys | /sys/* | /run/*) continue ;; esac
    mount -o remount,bind,ro "$m" 2>/dev/null || echo "sandbox: could not make $m read-only" >&2
  done
  for d in $RW_PATHS "$SAN_DIR"; do
    [ -d "$d" ] || continue
    mount --bind "$d" "$d" && mount -o remount,bind,rw "$d"
  done
  exec setpriv --reuid="$RUN_UID" --regid="$RUN_GID" --init-groups --no-new-privs \
    --bounding-set=-all --inh-caps=-all --ambient-caps=-all -- "$@"'

# run_unit NS ETC IFNAME ADDR — ExecStartPre lines, then ExecStart in the sandbox; DAEMON_PID
run_unit() {
  local ns=$1 etc=$2 ifn=$3 addr=$4 words
  start_pre "$ns" "$etc" "$ifn" "$addr" ||
    die "ExecStartPre failed in $ns:"$'\n'"$(tail -n 5 "$E2E_LOGS/unit-commands.log")"
  unit_cmd "$START" "$etc" "$ifn"
  [[ $PRIVILEGED == 0 ]] || die "ExecStart must not run with full privileges ('+'): $START"
  [[ $CMD != *[\'\"\$\\]* ]] || die "ExecStart has quoting or variables this test does not expect: $CMD"
  read -r -a words <<<"$CMD"
  E2E_SEQ=$((E2E_SEQ + 1))
  spawn daemon "squtun-${ns##*-}-$E2E_SEQ" "$ns" env "$ENVIRONMENT" SAN_DIR="$E2E_SAN" RW_PATHS="$RW_PATHS" \
    RUN_SQUTUN="$RUNSQ_TEST" RUN_UID="$U_UID" RUN_GID="$U_GID" unshare --mount --propagation private bash -c "$SANDBOX_SCRIPT" sandbox "${words[@]}"
  DAEMON_PID=$SPAWN_PID
  DAEMON_LOG=$SPAWN_LOG
  DAEMON_LOG_START=$(stat -c %s "$SPAWN_LOG") # after spawn's (multi-line) command header
  info "ExecStart in $ns, pid $DAEMON_PID: ${words[*]}"
}

run_unit "$NS_A" "$ETC_A" "$IF_A" 10.99.0.1/30
PID_A=$DAEMON_PID
LOG_A=$DAEMON_LOG
START_A=$DAEMON_LOG_START
# B's address comes from its config file, set by the unit's `squtun --setup-device` line: no
# drop-in.
echo "address = 10.99.0.2/30" >>"$ETC_B/$IF_B.conf"
run_unit "$NS_B" "$ETC_B" "$IF_B" config
PID_B=$DAEMON_PID
LOG_B=$DAEMON_LOG
START_B=$DAEMON_LOG_START
for end in "$NS_A $IF_A" "$NS_B $IF_B"; do
  read -r ns ifn <<<"$end"
  owner=$(ip netns exec "$ns" cat "/sys/class/net/$ifn/owner")
  [[ $owner == "$U_UID" ]] || die "ExecStartPre made $ifn in $ns owned by '$owner', not $U ($U_UID)"
  mtu=$(ip netns exec "$ns" cat "/sys/class/net/$ifn/mtu")
  [[ $mtu == "$TUN_MTU" ]] || die "$ifn in $ns has MTU $mtu, expected $TUN_MTU (squtun -m 1500)"
  alias=$(ip netns exec "$ns" cat "/sys/class/net/$ifn/ifalias")
  [[ $alias == "squtun@$ifn.service" ]] || die "$ifn in $ns has alias '$alias', not squtun@$ifn.service"
done
ip -n "$NS_B" -4 addr show dev "$IF_B" | grep -q 'inet 10.99.0.2/30' ||
  die "the unit's squtun --setup-device did not give $IF_B the config file's address 10.99.0.2/30"
pass "ExecStartPre: $IF_A and $IF_B owned by $U, MTU $TUN_MTU, marked squtun@IFNAME.service; A's address from a drop-in, B's from its config file (squtun --setup-device)"

wait_for 15 ns_ping "$NS_A" 10.99.0.2 || die "no ping through the tunnel run by the unit's commands within 15 s"
for pid in "$PID_A" "$PID_B"; do
  proc_alive "$pid" || die "daemon pid $pid is gone"
  exe=$(readlink "/proc/$pid/exe")
  [[ $exe == "$SQUTUN" ]] || die "pid $pid is $exe, not squtun (the recorded PID must be squtun's)"
  [[ $(proc_uids "$pid") == "$U_UID $U_UID $U_UID $U_UID" ]] || die "pid $pid uids: $(proc_uids "$pid")"
  for cap in CapEff CapPrm CapBnd CapAmb; do
    v=$(awk -v k="$cap:" '$1 == k { print $2 }' "/proc/$pid/status")
    [[ $v == 0000000000000000 ]] || die "pid $pid has $cap $v"
  done
  [[ $(awk '$1 == "NoNewPrivs:" { print $2 }' "/proc/$pid/status") == 1 ]] || die "pid $pid lacks no_new_privs"
  [[ $(awk '$5 == "/" { print $6 }' "/proc/$pid/mountinfo" | tail -n 1) == ro* ]] ||
    die "pid $pid does not see / read-only"
done
ping_report "$NS_A" 10.99.0.2 5
ping_report "$NS_B" 10.99.0.1 5
pass "tunnel up: both daemons as $U, no capabilities, no_new_privs, read-only file system"

# Quiet by default: a healthy start under the unit leaves nothing in the journal.
for end in "$LOG_A $START_A" "$LOG_B $START_B"; do
  read -r f start <<<"$end"
  said=$(tail -c +"$((start + 1))" "$f")
  [[ -z $said ]] || die "the daemon logged at the default level on a healthy start:"$'\n'"$said"
done
out=$("$SQUTUN" show "$IF_A" --pidfile "$RUNSQ_TEST/squtun-$IF_A.pid" 2>&1) ||
  die "squtun show $IF_A failed (no control socket in /run/squtun?): $out"
grep -q '198.18.0.2' <<<"$out" || die "squtun show $IF_A does not name the peer 198.18.0.2: $out"
info "squtun show $IF_A: $(head -n 3 <<<"$out" | tr '\n' '|')"
pass "nothing logged at the default level; 'squtun show' answers through /run/squtun"

counters=$(usr1_counters "$PID_A" "$LOG_A") || die "SIGUSR1 made the daemon log nothing to stderr within 5 s"
grep -q 'counters' <<<"$counters" || die "SIGUSR1 logged no counters line: $counters"
info "SIGUSR1 (systemctl kill -s USR1): $(grep 'counters' <<<"$counters" | head -n 1)"
RELOAD=$(unit_values "$UNIT" ExecReload)
[[ $RELOAD == '/bin/kill -HUP $MAINPID' ]] || die "the unit's ExecReload= is '$RELOAD', not a SIGHUP to the daemon"
sed -i 's/^keepalive = .*/keepalive = 7/' "$ETC_A/$IF_A.conf"
grep -q '^keepalive = 7$' "$ETC_A/$IF_A.conf" || echo 'keepalive = 7' >>"$ETC_A/$IF_A.conf"
${RELOAD/\$MAINPID/$PID_A}
reloaded() { grep -q 'reloaded: .*keepalive 7 s' "$LOG_A"; }
wait_for 10 reloaded || die "ExecReload (SIGHUP) did not reload $ETC_A/$IF_A.conf: $(tail -n 3 "$LOG_A")"
wait_for 5 ns_ping "$NS_A" 10.99.0.2 || die "no ping after systemctl reload"
info "ExecReload (systemctl reload): $(grep 'reloaded:' "$LOG_A" | tail -n 1)"
stop_daemon "$PID_A" TERM
stop_daemon "$PID_B" TERM
stop_post "$NS_A" "$ETC_A" "$IF_A"
stop_post "$NS_B" "$ETC_B" "$IF_B"
link_gone "$NS_A" "$IF_A" || die "ExecStopPost left $IF_A in $NS_A"
link_gone "$NS_B" "$IF_B" || die "ExecStopPost left $IF_B in $NS_B"
[[ ! -e $RUNSQ_TEST/squtun-$IF_A.sock ]] || die "/run/squtun/squtun-$IF_A.sock left behind after SIGTERM"
pass "SIGUSR1 counters on stderr (the journal); SIGTERM exits cleanly; ExecStopPost removes the devices"

step "4b. a device the unit did not make, one it left behind, and tap = yes"
ip -n "$NS_A" tuntap add dev "$IF_A" mode tun user "$U"
if start_pre "$NS_A" "$ETC_A" "$IF_A" 10.99.0.1/30; then
  die "ExecStartPre took over an existing $IF_A it did not make (e.g. ifupdown's)"
fi
stop_post "$NS_A" "$ETC_A" "$IF_A"
link_exists "$NS_A" "$IF_A" || die "ExecStopPost (after the failed start) deleted an $IF_A the unit did not make"
pass "an existing $IF_A is refused by ExecStartPre and survives ExecStopPost"

ip -n "$NS_A" link set dev "$IF_A" alias "squtun@$IF_A.service"
start_pre "$NS_A" "$ETC_A" "$IF_A" 10.99.0.1/30 || die "ExecStartPre did not replace the $IF_A a previous run left behind"
[[ $(ip netns exec "$NS_A" cat "/sys/class/net/$IF_A/owner") == "$U_UID" ]] || die "replaced $IF_A has the wrong owner"
stop_post "$NS_A" "$ETC_A" "$IF_A"
link_gone "$NS_A" "$IF_A" || die "ExecStopPost left $IF_A"
pass "an $IF_A left behind by the unit (alias squtun@$IF_A.service) is replaced"

printf 'tap = yes\n' >>"$ETC_A/$IF_A.conf"
start_pre "$NS_A" "$ETC_A" "$IF_A" 10.99.0.1/30 || die "ExecStartPre failed with tap = yes"
flags=$(ip netns exec "$NS_A" cat "/sys/class/net/$IF_A/tun_flags")
(((flags & 0x0002) != 0)) || die "tap = yes: $IF_A has tun_flags $flags, not IFF_TAP"
mtu=$(ip netns exec "$NS_A" cat "/sys/class/net/$IF_A/mtu")
[[ $mtu == $((TUN_MTU - 14)) ]] || die "tap = yes: MTU $mtu, expected $((TUN_MTU - 14))"
stop_post "$NS_A" "$ETC_A" "$IF_A"
link_gone "$NS_A" "$IF_A" || die "ExecStopPost left the TAP $IF_A"
pass "tap = yes: ExecStartPre makes a TAP device with MTU $mtu"

# ---------------------------------------------------------------------------------------------
step "5. the real unit under systemd"
PID1=$(ps -p 1 -o comm= 2>/dev/null || true)
if [[ $PID1 != systemd ]]; then
  info "NOTE: PID 1 is '$PID1', not systemd: the unit was checked offline (verify, security) and its"
  info "      command lines were run as above; running it through systemctl is skipped here."
else
  # A runtime unit under a unique name, in a namespace of ours (NetworkNamespacePath=), with the
  # binary and /etc/squtun stand-ins outside /tmp and /home (PrivateTmp=, ProtectHome=).
  NAME=squtun-e2e-$$
  INST=sqe$$
  RUNDIR=/run/$NAME
  # undone last first: stop the unit, remove its files, reload, remove RUNDIR
  mkdir -m 0755 "$RUNDIR"
  atexit rm -rf "$RUNDIR"
  atexit systemctl daemon-reload
  install -m 0755 "$SQUTUN" "$RUNDIR/squtun"
  make_etc "$RUNDIR/etc" "$INST" 7778 198.18.0.2 7777
  sed -e "s#/usr/local/sbin/squtun#$RUNDIR/squtun#g" -e "s#/etc/squtun/#$RUNDIR/etc/#g" \
    -e "s#^User=squtun\$#User=$U#" -e "s#user squtun;#user $U;#" "$UNIT" >"/run/systemd/system/$NAME@.service"
  atexit rm -f "/run/systemd/system/$NAME@.service"
  mkdir -p "/run/systemd/system/$NAME@$INST.service.d"
  atexit rm -rf "/run/systemd/system/$NAME@$INST.service.d"
  printf '[Service]\nNetworkNamespacePath=/run/netns/%s\nExecStartPre=+/sbin/ip address add 10.99.0.1/30 dev %%i\nRestart=no\n' \
    "$NS_A" >"/run/systemd/system/$NAME@$INST.service.d/test.conf"
  atexit systemctl stop "$NAME@$INST.service"
  systemctl daemon-reload
  # the other end: the unit's commands as in part 4
  run_unit "$NS_B" "$ETC_B" "$IF_B" 10.99.0.2/30
  PID_B=$DAEMON_PID
  timeout 30 systemctl start "$NAME@$INST.service" ||
    die "systemctl start $NAME@$INST failed: $(systemctl status --no-pager "$NAME@$INST.service" 2>&1 | tail -n 20)"
  link_exists "$NS_A" "$INST" || die "the unit's device $INST is not in $NS_A (NetworkNamespacePath= not applied to ExecStartPre=+?)"
  MAIN=$(systemctl show -p MainPID --value "$NAME@$INST.service")
  [[ $MAIN =~ ^[1-9][0-9]*$ ]] || die "no MainPID for $NAME@$INST"
  [[ $(proc_uids "$MAIN") == "$U_UID $U_UID $U_UID $U_UID" ]] || die "systemd's squtun runs as $(proc_uids "$MAIN")"
  [[ $(proc_capeff "$MAIN") == 0000000000000000 ]] || die "systemd's squtun has capabilities $(proc_capeff "$MAIN")"
  wait_for 15 ns_ping "$NS_B" 10.99.0.1 || die "no ping to the systemd-run end within 15 s"
  ping_report "$NS_B" 10.99.0.1 5
  timeout 30 systemctl stop "$NAME@$INST.service"
  link_gone "$NS_A" "$INST" || die "ExecStopPost under systemd left $INST"
  stop_daemon "$PID_B" TERM
  stop_post "$NS_B" "$ETC_B" "$IF_B"
  pass "systemctl start/stop $NAME@$INST: unprivileged, tunnel up, device removed at stop"
fi
