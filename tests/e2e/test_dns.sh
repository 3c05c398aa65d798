#!/usr/bin/env bash
# ctest: machine long (/etc/netns/NS/hosts; waits for address changes to be followed)
# test_dns.sh — -p NAME follows a peer whose address changes (dynamic DNS).
#
# A knows B only as peer.squtun.test, from A's own /etc/hosts (ip netns exec bind-mounts
# /etc/netns/NS/hosts over /etc/hosts); B knows A's fixed address. A runs the way an
# administrator would run it: root at start, then -u nobody, --chroot into an empty
# directory, and (in normal builds) the seccomp filter, so no lookup can run in the daemon
# itself after setup.
#   1. the tunnel comes up by name; while handshakes are answered nothing is looked up.
#   2. B's address changes (198.18.0.2 -> .3), its daemon keeps running. While the name
#      still gives the old address, A looks it up again (unanswered handshakes) and the
#      tunnel stays down (B's packets from .3 are dropped as wrong_source); once the hosts
#      file names .3, the tunnel is back within a bounded time.
#   3. B restarts at yet another address (.4) while the name does not resolve at all:
#      A warns once and keeps trying; once the name gives .4, the tunnel is back.
#   4. stopping A leaves no process behind (the lookup helper goes with the daemon).
# test_peer_names.sh covers names at start for both ends.
#
# usage: bash test_dns.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
require_cmd getent

NAME=peer.squtun.test
BACK_WITHIN=30   # s: one lookup every 6 s of unanswered handshakes, plus the handshake

netns_pair
tun_up "$NS_A" tun0 10.99.0.1/30
tun_up "$NS_B" tun0 10.99.0.2/30
KEY=$E2E_TMP/site.key
make_key "$KEY"

# A's private /etc/hosts. Rewritten in place (same inode): the bind mount in the daemon's
# mount namespace follows the file, not its name.
if [[ ! -d /etc/netns ]]; then
  mkdir -m 0755 /etc/netns
  atexit rmdir --ignore-fail-on-non-empty /etc/netns
fi
mkdir -m 0755 "/etc/netns/$NS_A"
atexit rm -rf "/etc/netns/$NS_A"
HOSTS_A=/etc/netns/$NS_A/hosts
name_is() {
  if [[ -n $1 ]]; then
    printf '127.0.0.1 localhost\n%s %s\n' "$1" "$NAME" >"$HOSTS_A"
  else
    printf '127.0.0.1 localhost\n' >"$HOSTS_A"
  fi
}
resolves_to() { [[ $(ip netns exec "$NS_A" getent hosts "$NAME" | awk '{print $1}') == "$1" ]]; }
move_b() {
  ip -n "$NS_B" addr del "$1/24" dev veth0
  ip -n "$NS_B" addr add "$2/24" dev veth0
  info "B moved: $1 -> $2"
}

# ---------------------------------------------------------------------------------------------
step "1. A reaches B by name"
name_is 198.18.0.2
resolves_to 198.18.0.2 || die "$NAME does not resolve to 198.18.0.2 in $NS_A (is /etc/netns/$NS_A/hosts used?)"
JAIL=$E2E_TMP/empty
mkdir -m 0755 "$JAIL"
# Sanitizer builds: inside the empty chroot there is no log_path directory and no /proc for
# LeakSanitizer, so this daemon reports to stderr (its log) and skips the leak check.
DAEMON_PREFIX=(env "ASAN_OPTIONS=${ASAN_OPTIONS}:log_path=stderr:detect_leaks=0"
  "UBSAN_OPTIONS=${UBSAN_OPTIONS}:log_path=stderr")
start_daemon "$NS_A" -vv -u nobody --chroot "$JAIL" --pidfile "$E2E_TMP/squtun-a.pid" \
  -l 7778 -p "$NAME" -r 7777 -i tun0 -k "$KEY"
PID_A=$DAEMON_PID
LOG_A=$DAEMON_LOG
DAEMON_PREFIX=()
start_daemon "$NS_B" -v --pidfile "$E2E_TMP/squtun-b.pid" -l 7777 -p 198.18.0.1 -r 7778 -i tun0 -k "$KEY"
PID_B=$DAEMON_PID
t0=$(now_ms)
wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "no ping through the tunnel with -p $NAME"
pass "tunnel up with -p $NAME in $(since "$t0") s"
confined() { [[ $(readlink "/proc/$PID_A/root") == "$JAIL" && $(proc_uids "$PID_A") == "65534 65534 65534 65534" ]]; }
wait_for 5 confined || die "A (pid $PID_A) is not chrooted in $JAIL as nobody: root $(readlink "/proc/$PID_A/root"), uids $(proc_uids "$PID_A")"
info "A runs as nobody in $JAIL (seccomp: $(awk '/^Seccomp:/ {print $2}' "/proc/$PID_A/status"))"
ping_report "$NS_A" 10.99.0.2 5
lookups() { grep -c "looking up $NAME again" "$LOG_A" || true; }
[[ $(lookups) == 0 ]] || die "A looked $NAME up again although its handshakes were answered"
pass "no lookups while the peer answers"

# ---------------------------------------------------------------------------------------------
step "2. B's address changes, its daemon keeps running"
move_b 198.18.0.2 198.18.0.3
# The name still gives the old address: A must look it up again, and must not get through.
stale_lookups() { grep -c "$NAME still resolves to 198.18.0.2:7777" "$LOG_A" || true; }
t0=$(now_ms)
deadline=$((t0 + 45000))
while (($(stale_lookups) < 2)); do
  (($(now_ms) < deadline)) || die "A did not look $NAME up again twice within 45 s of unanswered handshakes"
  ! ns_ping "$NS_A" 10.99.0.2 || die "the tunnel works although $NAME still names B's old address"
done
pass "A looked $NAME up again ($(stale_lookups) times in $(since "$t0") s); tunnel down meanwhile"
name_is 198.18.0.3
resolves_to 198.18.0.3 || die "the rewritten hosts file is not seen in $NS_A"
t0=$(now_ms)
wait_for "$BACK_WITHIN" ns_ping "$NS_A" 10.99.0.2 ||
  die "the tunnel did not come back within $BACK_WITHIN s of $NAME naming 198.18.0.3"
pass "tunnel back $(since "$t0") s after $NAME changed to 198.18.0.3"
grep -q "$NAME now resolves to 198.18.0.3:7777" "$LOG_A" || die "A did not log the new address of $NAME"
ping_report "$NS_B" 10.99.0.1 3
tcp_transfer "$NS_A" "$NS_B" 10.99.0.2 5001 4

# ---------------------------------------------------------------------------------------------
step "3. B restarts elsewhere while the name does not resolve"
stop_daemon "$PID_B" TERM
move_b 198.18.0.3 198.18.0.4
name_is ""
start_daemon "$NS_B" -v --pidfile "$E2E_TMP/squtun-b.pid" -l 7777 -p 198.18.0.1 -r 7778 -i tun0 -k "$KEY"
PID_B=$DAEMON_PID
failed_lookup() { grep -q "cannot look up the peer again: .*$NAME" "$LOG_A"; }
t0=$(now_ms)
deadline=$((t0 + 45000))
until failed_lookup; do
  (($(now_ms) < deadline)) || die "A did not report the failed lookup of $NAME within 45 s"
  ! ns_ping "$NS_A" 10.99.0.2 || die "the tunnel works although $NAME does not resolve and B moved"
done
pass "A warned that $NAME does not resolve ($(since "$t0") s) and kept its last address"
name_is 198.18.0.4
t0=$(now_ms)
wait_for "$BACK_WITHIN" ns_ping "$NS_A" 10.99.0.2 ||
  die "the tunnel did not come back within $BACK_WITHIN s of $NAME naming 198.18.0.4"
pass "tunnel back $(since "$t0") s after $NAME resolved again, to 198.18.0.4"
warnings=$(grep -c "cannot look up the peer again" "$LOG_A" || true)
[[ $warnings == 1 ]] || die "the failed lookup was logged $warnings times (expected once)"
counters=$(usr1_counters "$PID_A" "$LOG_A") || die "no counters from A on SIGUSR1"
wrong=$(grep -o 'wrong_source=[0-9]*' <<<"$counters" | cut -d= -f2)
((${wrong:-0} > 0)) || die "A counted no packets from B's new addresses as wrong_source: $counters"
info "A dropped $wrong packets from B's addresses before it looked $NAME up again"
ping_report "$NS_A" 10.99.0.2 3

# ---------------------------------------------------------------------------------------------
step "4. nothing of A's outlives it"
stop_daemon "$PID_A" TERM
no_processes() { [[ -z $(ip netns pids "$NS_A") ]]; }
wait_for 5 no_processes || die "processes left in $NS_A after A stopped: $(ip netns pids "$NS_A" | tr '\n' ' ')"
stop_daemon "$PID_B" TERM
pass "A's lookup helper and pid file keeper ended with it"
