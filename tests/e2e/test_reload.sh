#!/usr/bin/env bash
# ctest: machine (a user and group tun for the -u/--chroot part)
# test_reload.sh — SIGHUP re-reads the config and key files of a running tunnel:
#   keepalive, the peer's address and -v apply live; a restart-only option (listen), a broken
#   config line, a key file others may read and a passive end given a peer each refuse the
#   reload with a line naming what is wrong, and the tunnel runs on untouched; a daemon that
#   dropped to -u USER inside --chroot reloads too. Ping must cross after every reload.
#
# usage: bash test_reload.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
require_cmd useradd userdel usermod

netns_pair
tunnel_ends
CONF_A=$E2E_TMP/a.conf CONF_B=$E2E_TMP/b.conf
# conf FILE LINES... — write a config file (mode 0600) of `name = value` lines
conf() {
  local f=$1
  shift
  printf '%s\n' "$@" >"$f"
  chmod 600 "$f"
}
A_BASE=("listen = 7778" "peer-port = 7777" "interface = tun0" "key = $KEY" "pidfile = $PF_A" "verbose = yes")
B_BASE=("listen = 7777" "interface = tun0" "key = $KEY" "pidfile = $PF_B" "verbose = yes")
conf "$CONF_A" "${A_BASE[@]}" "peer = 198.18.0.2"
conf "$CONF_B" "${B_BASE[@]}"
start_pair --config "$CONF_B" -- --config "$CONF_A"

# hup PID LOG — SIGHUP, then wait for the reload's outcome line; sets OUTCOME to it
hup() {
  local pid=$1 log=$2 before
  before=$(grep -cE 'reloaded:|reload refused' "$log" || true)
  kill -HUP "$pid"
  reload_logged() { (($(grep -cE 'reloaded:|reload refused' "$log" || true) > before)); }
  wait_for 10 reload_logged || die "no reload outcome in $log 10 s after SIGHUP to pid $pid"
  OUTCOME=$(grep -E 'reloaded:|reload refused' "$log" | tail -n 1)
  info "pid $pid: $OUTCOME"
  proc_alive "$pid" || die "squtun (pid $pid) died on SIGHUP"
  wait_for 5 ns_ping "$NS_A" 10.99.0.2 || die "no ping through the tunnel after the reload ($OUTCOME)"
}

step "a new keepalive applies live"
conf "$CONF_A" "${A_BASE[@]}" "peer = 198.18.0.2" "keepalive = 1"
hup "$PID_A" "$LOG_A"
[[ $OUTCOME == *"reloaded: key "*", keepalive 1 s"* ]] || die "the reload did not report keepalive 1 s: $OUTCOME"
k0=$(show_counter "$NS_A" "$PF_A" keepalives_sent)
keepalives_flow() { (($(show_counter "$NS_A" "$PF_A" keepalives_sent) >= k0 + 3)); }
wait_for 8 keepalives_flow || die "keepalive = 1 did not make A send keepalives (still $(show_counter "$NS_A" "$PF_A" keepalives_sent))"
pass "keepalive 1 s in effect: keepalives_sent $k0 -> $(show_counter "$NS_A" "$PF_A" keepalives_sent)"

step "what only a restart can change refuses the whole reload"
conf "$CONF_A" "${A_BASE[@]/listen = 7778/listen = 7779}" "peer = 198.18.0.2" "keepalive = 0"
hup "$PID_A" "$LOG_A"
[[ $OUTCOME == *"reload refused"*"--listen changed"* ]] || die "changing listen was not refused by name: $OUTCOME"
udp_listening "$NS_A" 7778 || die "A no longer listens on 7778 after a refused reload"
k0=$(show_counter "$NS_A" "$PF_A" keepalives_sent)
wait_for 5 keepalives_flow || die "the refused reload applied its keepalive = 0 anyway"
pass "refused naming --listen; still on port 7778 and keepalive 1 s"

step "a broken config line and a key file others may read are refused, naming the file"
conf "$CONF_A" "${A_BASE[@]}" "peer = 198.18.0.2" "no-such-setting = 1"
hup "$PID_A" "$LOG_A"
[[ $OUTCOME == *"reload refused"*"$CONF_A"*"no-such-setting"* ]] || die "a bad config line was not refused by file and name: $OUTCOME"
conf "$CONF_A" "${A_BASE[@]}" "peer = 198.18.0.2"
chmod 644 "$KEY"
hup "$PID_A" "$LOG_A"
chmod 600 "$KEY"
[[ $OUTCOME == *"reload refused"*"$KEY"*"chmod 600"* ]] || die "a readable key file was not refused by name: $OUTCOME"
pass "both refused with the file named; the tunnel ran on"

step "a new peer address: handshake there, then data"
ip -n "$NS_B" addr add 198.18.1.2/24 dev veth0
ip -n "$NS_A" addr add 198.18.1.1/24 dev veth0
conf "$CONF_A" "${A_BASE[@]}" "peer = 198.18.1.2"
hup "$PID_A" "$LOG_A"
[[ $OUTCOME == *"reloaded:"*"peer 198.18.1.2 (198.18.1.2:7777)"* ]] || die "the new peer address was not reloaded: $OUTCOME"
b_sees_new() { [[ $(show_counter "$NS_B" "$PF_B" peer) == 198.18.1.1:7778 ]]; }
wait_for 10 b_sees_new || die "B still sees A at $(show_counter "$NS_B" "$PF_B" peer), not 198.18.1.1:7778"
[[ $(show_counter "$NS_A" "$PF_A" peer) == 198.18.1.2:7777 ]] || die "A's peer is $(show_counter "$NS_A" "$PF_A" peer)"
ping_report "$NS_A" 10.99.0.2 5
pass "A sends to 198.18.1.2:7777 and B answers 198.18.1.1:7778"

step "a passive end given a peer refuses the reload"
conf "$CONF_B" "${B_BASE[@]}" "peer = 198.18.0.1" "peer-port = 7778"
hup "$PID_B" "$LOG_B"
[[ $OUTCOME == *"reload refused"*"-p"* ]] || die "a passive end accepted a fixed peer without a restart: $OUTCOME"
conf "$CONF_B" "${B_BASE[@]}" "quiet = yes"
hup "$PID_B" "$LOG_B"
[[ $OUTCOME == *"reloaded:"* ]] || die "B did not reload -q: $OUTCOME"
pass "refused, then B reloaded"
stop_daemon "$PID_A" TERM
stop_daemon "$PID_B" TERM

step "-u USER --chroot DIR: the reload still reads the files"
U=sqreload$$
remove_user() { userdel "$1" 2>/dev/null || echo "cleanup: userdel $1 failed" >&2; }
useradd --system --no-create-home --user-group --shell /usr/sbin/nologin "$U" || die "useradd $U failed"
atexit remove_user "$U"
JAIL=$E2E_TMP/jail
mkdir -m 0755 "$JAIL"
conf "$CONF_B" "${B_BASE[@]}" "user = $U" "chroot = $JAIL"
ip -n "$NS_B" link del tun0
DAEMON_PREFIX=(env "ASAN_OPTIONS=${ASAN_OPTIONS:-}:log_path=stderr:detect_leaks=0" "UBSAN_OPTIONS=${UBSAN_OPTIONS:-}:log_path=stderr")
start_daemon "$NS_B" --config "$CONF_B"
PID_B=$DAEMON_PID LOG_B=$DAEMON_LOG
DAEMON_PREFIX=()
wait_for 10 link_exists "$NS_B" tun0 || die "squtun (root, -u $U) did not create tun0"
tun_config "$NS_B" tun0 10.99.0.2/30
conf "$CONF_A" "${A_BASE[@]}" "peer = 198.18.0.2"
start_daemon "$NS_A" --config "$CONF_A"
PID_A=$DAEMON_PID LOG_A=$DAEMON_LOG
wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "no ping through the tunnel to the -u/--chroot end"
[[ $(readlink "/proc/$PID_B/root") == "$JAIL" ]] || die "B is not chrooted in $JAIL"
conf "$CONF_B" "${B_BASE[@]}" "user = $U" "chroot = $JAIL" "clock-skew = 600"
hup "$PID_B" "$LOG_B"
[[ $OUTCOME == *"reloaded:"*"clock skew 600 s"* ]] || die "the -u/--chroot end did not reload: $OUTCOME"
conf "$CONF_B" "${B_BASE[@]}" "user = root" "chroot = $JAIL"
hup "$PID_B" "$LOG_B"
[[ $OUTCOME == *"reload refused"*"--user changed"* ]] || die "changing user was not refused: $OUTCOME"
stop_daemon "$PID_A" TERM
stop_daemon "$PID_B" TERM
pass "reloaded as $U inside $JAIL; --user refused by name"
