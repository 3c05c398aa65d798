#!/usr/bin/env bash
# ctest: machine (make install, users, group tun, /dev/net/tun, /run/squtun)
# test_ifupdown.sh — the Debian stanza of README.md, as written, brings the tunnel up with
# `ifup tun0` and down with `ifdown tun0` at both ends (two namespaces joined by a veth):
#
#   iface tun0 inet static
#     pre-up tunctl -t tun0 -u squtun
#     address 1.2.3.4
#     network 1.2.3.0
#     netmask 255.255.255.0
#     broadcast 1.2.3.255
#     up ifconfig tun0 mtu `/usr/local/sbin/squtun -m 1500`
#     up su squtun -c '/usr/local/sbin/squtun -l 3456 -p 18.2.3.4 -r 3457 -i tun0 -k /usr/local/etc/squtun/mytunnel.key -a 59 -c 30'
#     down ([ -e /var/run/squtun/squtun-tun0.pid ] && kill `cat /var/run/squtun/squtun-tun0.pid` && sleep 1) || /bin/true
#     post-down tunctl -d tun0
#
# Only the addresses change: the tunnel gets 10.99.0.1 / 10.99.0.2 in 10.99.0.0/24 (network
# and broadcast to match), the peer is the other end's underlay address in 198.18.0.0/15.
# The other end swaps the ports (3457 -p A -r 3456), as README.md says. tunctl (uml-utilities),
# ifconfig (net-tools), su, the key path, the pid file path and the flags are the stanza's.
# (Debian's tunctl makes TAP devices: squtun uses such a device as TAP, so both ends carry
# Ethernet frames; ping across still has to work, also with packets of tun0's full MTU.)
# Also: one end goes down and comes back while the other keeps running; the stanza in
# packaging/interfaces.example is this one; and that file's iproute2 variant (a TUN device,
# `ip tuntap`, `ip link set ... mtu`) comes up and goes down the same way.
#
# What it needs, and gives back at exit: ifupdown, uml-utilities and net-tools (installed if
# missing, and left installed); group tun (created if missing, then removed); the user squtun
# with a shell (`su squtun -c` needs one) in group tun (created if missing, then removed; an
# existing one gets its shell and group membership back); /dev/net/tun group tun, mode 0660
# (its owner, group and mode are put back).
#
# Each end runs in its own mount namespace, kept by a holder process (inside `ip netns exec`,
# which already gives the namespace's network and /sys), where private directories are
# bind-mounted over:
#   /etc/network  the end's own interfaces file and empty hook directories: ifup reads only
#                 the stanza above, and no hook of this machine runs;
#   /run          ifupdown's state (/run/network) and /var/run/squtun (/var/run is /run):
#                 the stanza's pid file is /var/run/squtun/squtun-tun0.pid at BOTH ends (same
#                 interface name), so each end needs its own /var/run/squtun (root:tun,
#                 01775, as `make install` makes it) or the two daemons would write, and the
#                 `down` lines kill, the same file;
#   /usr/local    sbin/squtun (the binary under test) and etc/squtun/mytunnel.key (owned by
#                 squtun, mode 0600), the stanza's paths, without touching this machine's.
# ifup and ifdown run there through nsenter into the holder's mount and network namespaces.
#
# usage: bash test_ifupdown.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
require_cmd nsenter unshare mount useradd userdel usermod groupadd groupdel gpasswd getent su

U=squtun
TUNDEV=/dev/net/tun
MTU_CMD_OUT=$TUN_MTU

# ---------------------------------------------------------------------------------------------
step "tools: ifupdown, tunctl (uml-utilities), ifconfig (net-tools)"
need_pkgs=()
command -v ifup >/dev/null 2>&1 || need_pkgs+=(ifupdown)
command -v tunctl >/dev/null 2>&1 || need_pkgs+=(uml-utilities)
command -v ifconfig >/dev/null 2>&1 || [[ -x /sbin/ifconfig ]] || need_pkgs+=(net-tools)
if [[ ${#need_pkgs[@]} -gt 0 ]]; then
  info "installing ${need_pkgs[*]}"
  apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      -o DPkg::Lock::Timeout=120 "${need_pkgs[@]}" >>"$E2E_LOGS/apt.log" 2>&1
  }
  if ! apt_install; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=120 >>"$E2E_LOGS/apt.log" 2>&1 || true
    apt_install || die "apt-get install ${need_pkgs[*]} failed: $(tail -n 5 "$E2E_LOGS/apt.log")"
  fi
fi
export PATH=$PATH:/usr/sbin:/sbin
require_cmd ifup ifdown tunctl ifconfig
info "$(ifup -V 2>&1 | head -n 1); tunctl $(command -v tunctl); ifconfig $(command -v ifconfig)"

# ---------------------------------------------------------------------------------------------
step "group tun, user $U (shell, in group tun), $TUNDEV for group tun"
if ! getent group tun >/dev/null; then
  groupadd --system tun
  atexit groupdel tun
  info "created group tun (removed at exit)"
fi
remove_user() {
  userdel "$U" || echo "cleanup: userdel $U failed" >&2
  if getent group "$U" >/dev/null; then groupdel "$U"; fi
  return 0
}
if ! getent passwd "$U" >/dev/null; then
  useradd --system --no-create-home --home-dir /nonexistent --user-group --shell /bin/sh \
    --groups tun "$U" || die "useradd $U failed"
  atexit remove_user
  info "created system user $U with shell /bin/sh in group tun (removed at exit)"
else
  shell=$(getent passwd "$U" | cut -d: -f7)
  case $shell in
    */nologin | */false | "")
      usermod -s /bin/sh "$U"
      atexit usermod -s "$shell" "$U"
      info "user $U exists; its shell $shell is /bin/sh until exit"
      ;;
  esac
  if ! id -nG "$U" | tr ' ' '\n' | grep -qx tun; then
    usermod -a -G tun "$U"
    atexit gpasswd -d "$U" tun
    info "user $U exists; in group tun until exit"
  fi
fi
U_UID=$(id -u "$U")

restore_tundev() {
  chown "$1" "$TUNDEV" && chmod "$2" "$TUNDEV"
  info "restored $TUNDEV to $(stat -c '%U:%G %a' "$TUNDEV")"
}
[[ -c $TUNDEV ]] || die "$TUNDEV missing"
atexit restore_tundev "$(stat -c '%u:%g' "$TUNDEV")" "$(stat -c '%a' "$TUNDEV")"
info "$TUNDEV was $(stat -c '%U:%G %a' "$TUNDEV") (restored at exit)"
chgrp tun "$TUNDEV"
chmod 0660 "$TUNDEV"
pass "$U (uid $U_UID, groups $(id -nG "$U")); $TUNDEV $(stat -c '%U:%G %a' "$TUNDEV")"

# ---------------------------------------------------------------------------------------------
step "two ends: namespaces, stanzas, private /etc/network, /run and /usr/local"
netns_pair

# The shared /usr/local: the binary under test and the key, at the stanza's paths.
USRLOCAL=$E2E_TMP/usr-local
mkdir -p "$USRLOCAL/sbin" "$USRLOCAL/etc/squtun"
chmod 0755 "$USRLOCAL" "$USRLOCAL/sbin" "$USRLOCAL/etc" "$USRLOCAL/etc/squtun"
install -m 0755 "$SQUTUN" "$USRLOCAL/sbin/squtun"
make_key "$USRLOCAL/etc/squtun/mytunnel.key" "$U"
[[ $(stat -c '%U %a' "$USRLOCAL/etc/squtun/mytunnel.key") == "$U 600" ]] || die "key file is not $U 0600"

# stanza ADDR NET BCAST LPORT PEER RPORT — the stanza with these addresses and ports
stanza() {
  local addr=$1 net=$2 bcast=$3 lport=$4 peer=$5 rport=$6
  cat <<EOF
iface tun0 inet static
  pre-up tunctl -t tun0 -u squtun
  address $addr
  network $net
  netmask 255.255.255.0
  broadcast $bcast
  up ifconfig tun0 mtu \`/usr/local/sbin/squtun -m 1500\`
  up su squtun -c '/usr/local/sbin/squtun -l $lport -p $peer -r $rport -i tun0 -k /usr/local/etc/squtun/mytunnel.key -a 59 -c 30'
  down ([ -e /var/run/squtun/squtun-tun0.pid ] && kill \`cat /var/run/squtun/squtun-tun0.pid\` && sleep 1) || /bin/true
  post-down tunctl -d tun0
EOF
}

# The stanza squtun keeps from SquTUN, whose documentation is ../shared/SEED.md when that is
# beside the repository: the stanza above with that text's addresses must be it, line for line
# (indentation aside).
SQUTUN_DOC=$REPO_ROOT/../shared/SEED.md
if [[ -f $SQUTUN_DOC ]]; then
  sed -n '/^ *iface tun0 inet static/,/post-down tunctl -d tun0/p' "$SQUTUN_DOC" | sed 's/^ *//' >"$E2E_TMP/squtun-doc.stanza"
  stanza 1.2.3.4 1.2.3.0 1.2.3.255 3456 18.2.3.4 3457 | sed 's/^ *//' >"$E2E_TMP/ours.stanza"
  [[ -s $E2E_TMP/squtun-doc.stanza ]] || die "no 'iface tun0 inet static' stanza found in $SQUTUN_DOC"
  diff -u "$E2E_TMP/squtun-doc.stanza" "$E2E_TMP/ours.stanza" >"$E2E_LOGS/stanza.diff" ||
    die "the stanza used here is not SquTUN's:"$'\n'"$(cat "$E2E_LOGS/stanza.diff")"
  pass "the stanza is SquTUN's ($SQUTUN_DOC), only addresses replaced"
else
  info "$SQUTUN_DOC not found: the stanza is not compared with SquTUN's text"
fi

# packaging/interfaces.example holds the same stanza (documentation addresses), and as a
# comment the iproute2 form for a TUN device, which is run below too.
EXAMPLE=$REPO_ROOT/packaging/interfaces.example
grep -v '^#' "$EXAMPLE" | sed -n '/^iface tun0 inet static/,/post-down/p' | sed 's/^ *//' >"$E2E_TMP/example.stanza"
stanza 10.99.0.1 10.99.0.0 10.99.0.255 3456 198.51.100.2 3457 | sed 's/^ *//' >"$E2E_TMP/ours.stanza"
diff -u "$E2E_TMP/example.stanza" "$E2E_TMP/ours.stanza" >"$E2E_LOGS/example.diff" ||
  die "packaging/interfaces.example's stanza is not the one tested here:"$'\n'"$(cat "$E2E_LOGS/example.diff")"
sed -n '/^# iface tun0 inet static/,/^#   post-down/p' "$EXAMPLE" | tail -n 7 | sed 's/^# \{0,1\}//' >"$E2E_TMP/variant.stanza"
if ! grep -q '^iface tun0 inet static' "$E2E_TMP/variant.stanza" ||
  ! grep -q 'ip tuntap add dev tun0 mode tun' "$E2E_TMP/variant.stanza"; then
  die "no iproute2 (ip tuntap ... mode tun) variant found in $EXAMPLE:"$'\n'"$(cat "$E2E_TMP/variant.stanza")"
fi
pass "packaging/interfaces.example: the same stanza, and an iproute2 variant"

# variant_stanza ADDR LPORT PEER RPORT — the example's iproute2 variant for one end
variant_stanza() {
  sed -e "s#address 10\.99\.0\.1/24#address $1/24#" -e "s#-l 3456 -p 198\.51\.100\.2 -r 3457#-l $2 -p $3 -r $4#" \
    "$E2E_TMP/variant.stanza"
}

declare -A HOLDER=() PRIV=()
# end_setup NAME NS STANZA-ARGS... — private dirs for one end and the holder of its mounts
end_setup() {
  local name=$1 ns=$2 priv d
  shift 2
  priv=$E2E_TMP/end-$name
  PRIV[$name]=$priv
  mkdir -p "$priv/etc-network" "$priv/run/network" "$priv/run/squtun"
  for d in if-pre-up.d if-up.d if-down.d if-post-down.d interfaces.d; do
    mkdir -p "$priv/etc-network/$d"
  done
  stanza "$@" >"$priv/etc-network/interfaces"
  chmod 0755 "$priv" "$priv/run" "$priv/run/network"
  chown root:tun "$priv/run/squtun"
  chmod 01775 "$priv/run/squtun"
  # shellcheck disable=SC2016  # $1..$4 are the inner shell's arguments
  spawn helper "holder-$name" "$ns" unshare --mount --propagation private bash -c '
    mount --bind "$1" /etc/network && mount --bind "$2" /run && mount --bind "$3" /usr/local &&
      touch "$4" && exec sleep infinity' holder \
    "$priv/etc-network" "$priv/run" "$USRLOCAL" "$priv/mounted"
  HOLDER[$name]=$SPAWN_PID
  wait_for 10 test -e "$priv/mounted" || die "the mount namespace of end $name was not set up"
  info "end $name in $ns: holder pid ${HOLDER[$name]}, interfaces:"
  sed 's/^/    /' "$priv/etc-network/interfaces"
}

# at NAME CMD... — run CMD in end NAME's mount and network namespaces
at() {
  local name=$1
  shift
  nsenter -t "${HOLDER[$name]}" -m -n -- "$@"
}

end_setup a "$NS_A" 10.99.0.1 10.99.0.0 10.99.0.255 3456 198.18.0.2 3457
end_setup b "$NS_B" 10.99.0.2 10.99.0.0 10.99.0.255 3457 198.18.0.1 3456
[[ $(at a cat /usr/local/etc/squtun/mytunnel.key) == "$(cat "$USRLOCAL/etc/squtun/mytunnel.key")" ]] ||
  die "end a does not see the key at /usr/local/etc/squtun/mytunnel.key"
[[ $(at a stat -c '%U:%G %a' /var/run/squtun) == "root:tun 1775" ]] ||
  die "end a's /var/run/squtun is $(at a stat -c '%U:%G %a' /var/run/squtun)"

PIDFILE=/var/run/squtun/squtun-tun0.pid
declare -A DPID=()
declare -A ADDR=([a]=10.99.0.1 [b]=10.99.0.2)

# tun_kind NS — TAP or TUN, from tun0's flags (IFF_TAP is 0x0002)
tun_kind() {
  local flags
  flags=$(ip netns exec "$1" cat /sys/class/net/tun0/tun_flags)
  if (((flags & 0x0002) != 0)); then echo TAP; else echo TUN; fi
}

# pidfile_of NAME — the stanza's pid file of end NAME, as seen from here
pidfile_of() { echo "${PRIV[$1]}/run/squtun/squtun-tun0.pid"; }

# ifup_end NAME NS KIND — `ifup tun0`; then checks device (KIND: TAP or TUN), address, MTU,
# daemon and pid file
ifup_end() {
  local name=$1 ns=$2 kind=$3 t0 pidf pid exe owner
  t0=$(now_ms)
  printf '### %s: ifup -v tun0\n' "$(_ts)" >>"$E2E_LOGS/ifupdown-$name.log"
  at "$name" timeout 60 ifup -v tun0 </dev/null >>"$E2E_LOGS/ifupdown-$name.log" 2>&1 ||
    die "ifup tun0 failed at end $name:"$'\n'"$(tail -n 25 "$E2E_LOGS/ifupdown-$name.log")"
  info "ifup tun0 at end $name returned after $(since "$t0") s"
  pidf=$(pidfile_of "$name")
  [[ -s $pidf ]] || die "ifup tun0 returned but $PIDFILE (end $name) is missing or empty"
  pid=$(tr -d '[:space:]' <"$pidf")
  [[ $pid =~ ^[0-9]+$ ]] || die "$PIDFILE of end $name holds '$pid', not a PID"
  proc_alive "$pid" || die "$PIDFILE of end $name names pid $pid, which is not running"
  track_foreign "$pid"
  DPID[$name]=$pid
  exe=$(readlink "/proc/$pid/exe")
  [[ $exe == /usr/local/sbin/squtun ]] || die "pid $pid (end $name) runs '$exe', not /usr/local/sbin/squtun"
  [[ $(proc_uids "$pid") == "$U_UID $U_UID $U_UID $U_UID" ]] ||
    die "pid $pid (end $name) runs as uids '$(proc_uids "$pid")', not $U ($U_UID)"
  [[ $(readlink "/proc/$pid/ns/net") == "$(readlink "/proc/${HOLDER[$name]}/ns/net")" ]] ||
    die "pid $pid (end $name) is not in namespace $ns"
  owner=$(ip netns exec "$ns" cat /sys/class/net/tun0/owner)
  [[ $owner == "$U_UID" ]] || die "tun0 at end $name is owned by uid $owner, not $U"
  [[ $(ip netns exec "$ns" cat /sys/class/net/tun0/mtu) == "$MTU_CMD_OUT" ]] ||
    die "tun0 at end $name has MTU $(ip netns exec "$ns" cat /sys/class/net/tun0/mtu), not $MTU_CMD_OUT (squtun -m 1500)"
  [[ $(tun_kind "$ns") == "$kind" ]] || die "tun0 at end $name is a $(tun_kind "$ns") device, not $kind"
  ip -n "$ns" -4 -o addr show dev tun0 | grep -qE "inet ${ADDR[$name]}/24( brd 10\.99\.0\.255)? " ||
    die "tun0 at end $name has not ${ADDR[$name]}/24: $(ip -n "$ns" -4 -o addr show dev tun0)"
  grep -qxE 'tun0(=tun0)?' "${PRIV[$name]}/run/network/ifstate.tun0" 2>/dev/null ||
    die "ifupdown did not record tun0 as up at end $name: $(cat "${PRIV[$name]}/run/network/ifstate.tun0" 2>&1)"
  pass "end $name: ifup tun0: $PIDFILE holds $pid, squtun running as $U; tun0 ($(tun_kind "$ns")) owned by $U, ${ADDR[$name]}/24, MTU $MTU_CMD_OUT"
}

# ifdown_end NAME NS — `ifdown tun0`; daemon gone, pid file gone, tun0 deleted
ifdown_end() {
  local name=$1 ns=$2 t0 pid=${DPID[$1]}
  t0=$(now_ms)
  printf '### %s: ifdown -v tun0\n' "$(_ts)" >>"$E2E_LOGS/ifupdown-$name.log"
  at "$name" timeout 60 ifdown -v tun0 </dev/null >>"$E2E_LOGS/ifupdown-$name.log" 2>&1 ||
    die "ifdown tun0 failed at end $name:"$'\n'"$(tail -n 25 "$E2E_LOGS/ifupdown-$name.log")"
  info "ifdown tun0 at end $name returned after $(since "$t0") s"
  wait_for 10 proc_gone "$pid" || die "squtun pid $pid (end $name) still runs after ifdown tun0"
  untrack_foreign "$pid"
  [[ ! -e $(pidfile_of "$name") ]] || die "$PIDFILE (end $name) is still there after ifdown tun0"
  wait_for 10 link_gone "$ns" tun0 || die "tun0 still exists at end $name after ifdown tun0"
  ! grep -qs '[^[:space:]]' "${PRIV[$name]}/run/network/ifstate.tun0" ||
    die "ifupdown still records tun0 at end $name: $(cat "${PRIV[$name]}/run/network/ifstate.tun0")"
  pass "end $name: ifdown tun0: squtun $pid gone, pid file removed, tun0 deleted"
}

# ---------------------------------------------------------------------------------------------
step "ifup tun0 at both ends"
ifup_end a "$NS_A" TAP
ifup_end b "$NS_B" TAP
t0=$(now_ms)
wait_for 20 ns_ping "$NS_A" 10.99.0.2 || die "no ping from 10.99.0.1 to 10.99.0.2 through the tunnel within 20 s"
pass "ping 10.99.0.1 -> 10.99.0.2 through the tunnel after $(since "$t0") s"
ping_report "$NS_A" 10.99.0.2 5
ping_report "$NS_B" 10.99.0.1 5
[[ $(link_stat "$NS_A" veth0 rx_packets) -gt 0 ]] || die "nothing crossed the underlay veth"
out=$(ip netns exec "$NS_A" ping -n -c 3 -i 0.2 -W 2 -M "do" -s $((MTU_CMD_OUT - 28)) 10.99.0.2 2>&1) ||
  die "full-size ping (${MTU_CMD_OUT}-byte packets, tun0's MTU) failed:"$'\n'"$out"
pass "full-size packets (${MTU_CMD_OUT} bytes, tun0's MTU) cross: $(grep -o '[0-9]* received' <<<"$out")"

step "ifdown tun0 at end b: end a keeps running; ifup tun0 at b again: the tunnel comes back"
ifdown_end b "$NS_B"
proc_alive "${DPID[a]}" || die "squtun at end a (pid ${DPID[a]}) died when end b went down"
! ns_ping "$NS_A" 10.99.0.2 || die "10.99.0.2 still answers with end b down"
ifup_end b "$NS_B" TAP
# b pings first: the end that came back starts the handshake with its first packet, and its
# ARP request gives a the new tun0's MAC (tunctl made a new TAP device with a new address).
t0=$(now_ms)
wait_for 20 ns_ping "$NS_B" 10.99.0.1 || die "no ping b -> a through the tunnel within 20 s of ifup tun0 at end b again"
pass "ping b -> a through the tunnel again $(since "$t0") s after end b came back"
ping_report "$NS_A" 10.99.0.2 5

step "ifdown tun0 at both ends"
ifdown_end a "$NS_A"
ifdown_end b "$NS_B"
for name in a b; do
  left=$(find "${PRIV[$name]}/run/squtun" -mindepth 1)
  [[ -z $left ]] || die "end $name's /var/run/squtun still holds: $left"
done
pass "both tunnels down: no squtun running, /var/run/squtun empty at both ends, no tun0"

step "the example's iproute2 variant: a TUN device at both ends"
variant_stanza 10.99.0.1 3456 198.18.0.2 3457 >"${PRIV[a]}/etc-network/interfaces"
variant_stanza 10.99.0.2 3457 198.18.0.1 3456 >"${PRIV[b]}/etc-network/interfaces"
sed 's/^/    /' "${PRIV[a]}/etc-network/interfaces"
for name in a b; do
  if ! grep -q "^  address ${ADDR[$name]}/24\$" "${PRIV[$name]}/etc-network/interfaces" ||
    ! grep -q -- "-p 198\.18\.0\.[12] " "${PRIV[$name]}/etc-network/interfaces"; then
    die "could not put the test addresses into the example's variant for end $name"
  fi
done
ifup_end a "$NS_A" TUN
ifup_end b "$NS_B" TUN
t0=$(now_ms)
wait_for 20 ns_ping "$NS_A" 10.99.0.2 || die "no ping through the TUN tunnel within 20 s"
pass "ping 10.99.0.1 -> 10.99.0.2 through the TUN tunnel after $(since "$t0") s"
ping_report "$NS_B" 10.99.0.1 5
ifdown_end a "$NS_A"
ifdown_end b "$NS_B"
pass "the iproute2 variant comes up and goes down the same way"
