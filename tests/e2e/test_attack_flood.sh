#!/usr/bin/env bash
# ctest: serial (flood rate, ping loss and CPU bounds)
# test_attack_flood.sh — a handshake flood at the highest rate this machine
# can send, while the tunnel carries pings.
#
# The limits under test (docs/PROTOCOL.md 8.3, src/protocol/constants.h): at most 20000
# handshake MAC checks a second (burst 20000), at most 50 initiations answered a second (burst
# 50), in all; one source address may spend 2000 and 10 of them, and the address of the last
# completed handshake has as much again reserved; everything over them is dropped as
# rate_limited before any cryptography.  Data messages are not rate-limited, so an
# established session keeps working.
#
# A small C sender (compiled here with cc) blasts 64-byte initiations with sendmmsg for about
# FLOOD_SECS seconds: half with random contents under a valid header (bad MAC), half replays of
# the genuine initiations A sent when the tunnel came up (valid MAC, stale timestamp).  It stands
# for an attacker on another host, but here it shares two cores with the daemons (and with
# whatever else loads the machine), and the kernel's receive work for every datagram runs on
# its time.  Daemons and sender run at equal priority: with the 4 MiB socket buffer squtun
# had before, a loaded machine sometimes kept the daemons off the CPU for longer than the
# buffer lasted (about 20 ms at 200k datagrams/s) and 1-4 % of the pings were lost; the
# 16 MiB buffer lasts about 60 ms and measured 0 % (DAEMON_NICE=-10 gives the daemons the
# host as if they had it to themselves, for comparison).  The sender runs at normal priority,
# so it still floods as fast as the machine lets it when other work loads it (at nice 19 it
# then sent under 10k datagrams/s, below the limits under test); printed: 50k-300k
# datagrams/s on the 2-core test machine.
#   1. at passive B, from another address (198.18.0.3, a second address in A's namespace):
#      a passive end accepts initiations from anywhere, so every datagram reaches the MAC check
#      unless the rate limit stops it (SECURITY.md 4.4);
#   2. at static A, from B's own address and port 198.18.0.2:7777 (raw socket), the only
#      source a static end does not drop unchecked;
#   3. at passive B, spoofed: three datagrams in four from a new random address of
#      198.19.0.0/16 each, the fourth from 198.18.0.3:40000, so the flood spends the common
#      budgets; meanwhile A is restarted, and its genuine handshake must give a ping reply
#      within 10 s.  Printed: the flood rate and the time to the first reply.
# Meanwhile A pings B through the tunnel (ping -i 0.01, about 55 a second), all inside the
# flood: it starts first and stops when the last reply is in.  Checked: ping loss under 1 %; the
# daemon's CPU (utime + stime from /proc/PID/stat over the flood) under 95 % of one core;
# MAC checks done (bad_mac + replay drops) at most 20000 per second of flood plus the burst;
# rate_limited, bad_mac and replay drops rise; no response is sent (nothing in the flood is
# fresh); no handshake completes; every datagram the daemon read is either tunnel data or
# counted as a drop.  With a sanitizer build the CPU and loss bounds are printed, not enforced.
# Then sha256-checked transfers.
#
# usage: bash test_attack_flood.sh [path/to/squtun]
# shellcheck disable=SC2034  # arrays filled by name (snapshot) look unused to shellcheck
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/e2e/attack_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/attack_lib.sh"
e2e_init "$@"
attack_init
require_cmd cc

FLOOD_SECS=${FLOOD_SECS:-10}
FLOOD_NICE=${FLOOD_NICE:-0}
DAEMON_NICE=${DAEMON_NICE:-0}
MAC_CHECKS_PER_SEC=20000   # kMacChecksPerSecond
# Not saturated: the flood must leave the daemon time for the tunnel. Most of what it costs
# is the kernel's receive path, one skb per datagram: at the 480,000 datagrams/s a 2-core VM
# sends, the daemon measured 77-86 % of a core (perf: inbound thread 28 % kernel, 20 % user,
# of both cores' samples), the same for the build before the ordered pipeline; 80 % failed
# on both.
CPU_LIMIT_PCT=95
LOSS_LIMIT_PCT=1
# Under AddressSanitizer every instruction of the daemon costs several times more: the CPU
# and ping-loss bounds are measured and printed but not enforced (everything else is).
SANITIZED=0
if sanitized_build; then
  SANITIZED=1
  info "sanitizer build: CPU and ping-loss bounds are reported, not enforced"
fi

FLOOD=$E2E_TMP/flood
cat >"$FLOOD.c" <<'EOF'
/* flood MODE SRC SPORT DST DPORT SECONDS TEMPLATES — 64-byte initiations as fast as sendmmsg
 * goes, for SECONDS or until SIGTERM.  MODE udp: an ordinary socket bound to SRC:SPORT; raw: a raw IPPROTO_UDP socket bound
 * to SRC that writes its own UDP header (any source port, also one a daemon has bound);
 * spoof: a raw IPPROTO_RAW socket that writes the IP header too: one datagram in four from
 * SRC:SPORT, the others each from a new random address in 198.19.0.0/16 and a random port.
 * Even datagrams: type 1, reserved zero, the rest random but for a running counter (bad MAC);
 * odd ones: the genuine initiations of TEMPLATES (a file of 64-byte records), in turn.
 * Prints one line: sent=N seconds=S rate=R errors=E. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MSG 64

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 8) return 2;
  int spoof = strcmp(argv[1], "spoof") == 0;
  int raw = spoof || strcmp(argv[1], "raw") == 0;
  unsigned sport = atoi(argv[3]), dport = atoi(argv[5]);
  double secs = atof(argv[6]);
  static uint8_t templates[64][MSG];
  FILE *f = fopen(argv[7], "rb");
  if (!f) { perror("templates"); return 1; }
  size_t ntemplates = fread(templates, MSG, 64, f);
  fclose(f);
  if (ntemplates == 0) { fprintf(stderr, "no templates\n"); return 1; }

  int fd = spoof ? socket(AF_INET, SOCK_RAW, IPPROTO_RAW)
           : raw  ? socket(AF_INET, SOCK_RAW, IPPROTO_UDP)
                  : socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) { perror("socket"); return 1; }
  int small = 1, big = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);  /* raw: never read */
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = raw ? 0 : htons(sport)};
  struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = raw ? 0 : htons(dport)};
  inet_pton(AF_INET, argv[2], &src.sin_addr);
  inet_pton(AF_INET, argv[4], &dst.sin_addr);
  if (!spoof && bind(fd, (struct sockaddr *)&src, sizeof src) != 0) { perror("bind"); return 1; }
  if (connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0) { perror("connect"); return 1; }

  static uint8_t buf[BATCH][20 + 8 + MSG];
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof msgs);
  size_t ip = spoof ? 20 : 0;  /* spoof: an IPv4 header of our own first */
  size_t off = raw ? 0 : 8;    /* udp mode: no header of our own */
  for (int i = 0; i < BATCH; i++) {
    uint8_t *p = buf[i] + ip;
    uint16_t h[4] = {htons(sport), htons(dport), htons(8 + MSG), 0};
    memcpy(p, h, 8);
    if (spoof) { /* the kernel fills in the checksum and the id */
      uint8_t *q = buf[i];
      uint16_t len = htons(20 + 8 + MSG);
      q[0] = 0x45; memcpy(q + 2, &len, 2); q[8] = 64; q[9] = IPPROTO_UDP;
      memcpy(q + 12, &src.sin_addr, 4); memcpy(q + 16, &dst.sin_addr, 4);
    }
    uint8_t *m = p + 8;
    if (i % 2 == 0) {
      getrandom(m, MSG, 0);
      m[0] = 1; m[1] = m[2] = m[3] = 0;
    } else {
      memcpy(m, templates[(i / 2) % ntemplates], MSG);
    }
    iov[i].iov_base = buf[i] + off;
    iov[i].iov_len = ip + 8 + MSG - off;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  struct sigaction sa = {.sa_handler = on_term};
  sigaction(SIGTERM, &sa, NULL);
  unsigned long long sent = 0, errors = 0, counter = 0;
  uint64_t rng = 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
  double t0 = now(), t = t0;
  while (!stop && (t = now()) - t0 < secs) {
    for (int i = 0; i < BATCH; i += 2) {  /* a new bad-MAC initiation each time */
      counter++;
      memcpy(buf[i] + ip + 8 + 8, &counter, sizeof counter);
    }
    for (int i = 0; spoof && i < BATCH; i++) {  /* new random sources, but every fourth */
      if (i % 4 == 0) continue;
      rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
      buf[i][12] = 198; buf[i][13] = 19; buf[i][14] = (uint8_t)rng; buf[i][15] = (uint8_t)(rng >> 8);
      uint16_t port = htons((uint16_t)(1024 + (rng >> 16) % 64000));
      memcpy(buf[i] + ip, &port, 2);
    }
    int n = sendmmsg(fd, msgs, BATCH, 0);
    if (n > 0) sent += n;
    else if (errno == ENOBUFS || errno == EAGAIN || errno == ECONNREFUSED) errors++;
    else if (errno == EINTR) continue;
    else { perror("sendmmsg"); return 1; }
  }
  t = now();
  printf("sent=%llu seconds=%.3f rate=%.0f errors=%llu\n", sent, t - t0, sent / (t - t0), errors);
  return 0;
}
EOF
cc -O2 -Wall -o "$FLOOD" "$FLOOD.c" || die "cannot compile the flood sender"

netns_pair
ip -n "$NS_A" addr add 198.18.0.3/24 dev veth0
tunnel_ends

CAP=$E2E_TMP/handshake.jsonl
sniff_start "$NS_A" veth0 "$CAP" --payload
REC_PID=$SNIFF_PID
DAEMON_PREFIX=(nice -n "$DAEMON_NICE") # (nice execs: the PID stays squtun's)
start_pair -v -l 7777 -i tun0 -k "$KEY" --pidfile "$PF_B" -- \
  -v -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$KEY" --pidfile "$PF_A"
DAEMON_PREFIX=()
sniff_stop "$REC_PID" "$CAP"
# the genuine initiations of both ends, as 64-byte records
"$PYTHON" - "$CAP" "$E2E_TMP/init-A.bin" "$E2E_TMP/init-B.bin" <<'EOF'
import json, sys
out = {"198.18.0.1": open(sys.argv[2], "wb"), "198.18.0.2": open(sys.argv[3], "wb")}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "hex" in r and r["type"] == 1 and r["len"] == 64 and r["src"] in out:
        out[r["src"]].write(bytes.fromhex(r["hex"]))
EOF
[[ -s $E2E_TMP/init-A.bin ]] || die "no initiation of A recorded"
info "recorded $(($(stat -c %s "$E2E_TMP/init-A.bin") / 64)) initiation(s) of A"

# flood_at LABEL TNS TPID TPF SNS MODE SRC SPORT DST DPORT TEMPLATES VALID_DROP — flood the
# daemon TPID (namespace TNS, pid file TPF) from namespace SNS; VALID_DROP is the drop counter
# the genuine initiations of TEMPLATES land in once their MAC passed (replay or reflected)
flood_at() {
  local label=$1 tns=$2 tpid=$3 tpf=$4 sns=$5 mode=$6 src=$7 sport=$8 dst=$9 dport=${10} templates=${11} valid=${12}
  local -A before after
  local ticks0 ticks1 udp0 t0 t1 out ping_out count loss cpu_pct secs_ms checks max_checks
  # ping -i 0.01 gets about 55 a second out here (its timer), so this is about FLOOD_SECS
  count=$((FLOOD_SECS * 55))
  snapshot before "$tns" "$tpf"
  udp0=$(udp_read "$tpid")
  ticks0=$(cpu_ticks "$tpid")
  t0=$(now_ms)
  # the sender's own time limit is only a backstop: it floods until the pings are done
  spawn helper "flood-$label" "$sns" nice -n "$FLOOD_NICE" "$FLOOD" "$mode" "$src" "$sport" "$dst" "$dport" \
    $((FLOOD_SECS * 6)) "$templates"
  local flood_pid=$SPAWN_PID flood_log=$SPAWN_LOG
  flooding() { (($(udp_in "$tpid") - udp0 > 10000)); }
  wait_for 5 flooding || die "$label: the flood does not reach the daemon: $(tail -n 3 "$flood_log")"
  # All the pings inside the flood, and -c without -w: a deadline would count the replies still
  # on their way when it struck as lost.
  ping_out=$(ip netns exec "$NS_A" timeout $((FLOOD_SECS * 5)) ping -n -q -c "$count" -i 0.01 -W 1 10.99.0.2 2>&1) || true
  stop_helper "$flood_pid" TERM
  t1=$(now_ms)
  ticks1=$(cpu_ticks "$tpid")
  out=$(grep '^sent=' "$flood_log") || die "$label: the flood sender failed: $(tail -n 5 "$flood_log")"
  proc_alive "$tpid" || die "$label: the daemon died under the flood"
  # every datagram the daemon read is either tunnel data or counted as a drop; wait until the
  # counters have caught up with the socket (nothing is sent any more).  Drops of what the
  # daemon sends (a ping reply the flooded link refused: udp_send) are not datagrams it read.
  # The kernel counts datagrams that GRO coalesced (UDP_GRO) once per read, the daemon each
  # of them: the daemon's count may be the larger, never the smaller.
  local taken data dropped outbound r
  balanced() {
    local u
    u=$(udp_read "$tpid")
    snapshot after "$tns" "$tpf"
    taken=$((u - udp0))
    data=$(($(delta after before rx_packets) + $(delta after before keepalives_received)))
    outbound=0
    for r in udp_send no_session no_peer too_big tun_read; do
      outbound=$((outbound + ${after[drop_$r]:-0} - ${before[drop_$r]:-0}))
    done
    dropped=$(($(drops_total after) - $(drops_total before) - outbound))
    ((dropped + data >= taken))
  }
  wait_for 10 balanced ||
    die "$label: the socket took $taken datagrams, $data of them tunnel data, but $dropped drops were counted ($outbound more of what it sent; $(drops_delta_line after before))"
  secs_ms=$((t1 - t0))
  cpu_pct=$(((ticks1 - ticks0) * 1000 * 100 / CLK_TCK / secs_ms))
  loss=$(ping_loss_pct "$ping_out")
  checks=$(($(delta after before drop_bad_mac) + $(delta after before "drop_$valid")))
  max_checks=$((MAC_CHECKS_PER_SEC * (secs_ms + 1000) / 1000 + MAC_CHECKS_PER_SEC))
  info "$label: flood $out"
  info "$label: the daemon's socket took $taken datagrams ($(("$taken" * 1000 / secs_ms))/s; $("$PYTHON" "$ATTACK_PY" udpstats "$tpid")); drops $(drops_delta_line after before)"
  info "$label: daemon CPU $((ticks1 - ticks0)) ticks in $secs_ms ms = $cpu_pct % of one core; MAC checks $checks (bad_mac + $valid; limit $max_checks); ping: $(grep -E 'packet loss' <<<"$ping_out")"
  [[ -n $loss ]] || die "$label: no ping summary:"$'\n'"$ping_out"
  if [[ $SANITIZED == 0 ]]; then
    awk -v l="$loss" -v m="$LOSS_LIMIT_PCT" 'BEGIN { exit !(l < m) }' || die "$label: ping loss $loss % during the flood (limit < $LOSS_LIMIT_PCT %)"
    ((cpu_pct < CPU_LIMIT_PCT)) || die "$label: the daemon used $cpu_pct % of a core during the flood (limit $CPU_LIMIT_PCT %)"
  fi
  ((checks <= max_checks)) || die "$label: $checks MAC checks in $secs_ms ms: the 20000/s limit did not hold"
  (($(delta after before drop_rate_limited) > 0)) || die "$label: drop_rate_limited did not rise"
  (($(delta after before drop_bad_mac) > 0)) || die "$label: drop_bad_mac did not rise"
  (($(delta after before "drop_$valid") > 0)) || die "$label: drop_$valid did not rise (the genuine initiations in the flood)"
  [[ $(delta after before responses_sent) == 0 ]] || die "$label: the daemon answered $(delta after before responses_sent) flooded initiations"
  [[ $(delta after before handshakes) == 0 ]] || die "$label: a handshake completed during the flood"
  RESULTS+=("$(printf '%-10s %s; daemon took %d/s, CPU %d %%, MAC checks %d (<= %d), ping loss %s %%' "$label" "$out" \
    "$((taken * 1000 / secs_ms))" "$cpu_pct" "$checks" "$max_checks" "$loss")")
  pass "$label: ping loss $loss %, daemon CPU $cpu_pct %, MAC checks held to the limit, nothing answered"
}

step "1. flood passive B from 198.18.0.3 (bad-MAC and replayed initiations of A), ${FLOOD_SECS}s"
flood_at passive-B "$NS_B" "$PID_B" "$PF_B" "$NS_A" udp 198.18.0.3 40000 198.18.0.2 7777 "$E2E_TMP/init-A.bin" replay
ping_report "$NS_A" 10.99.0.2 5

step "2. flood static A from B's address and port 198.18.0.2:7777 (raw), ${FLOOD_SECS}s"
# B is passive and never initiated, so the genuine initiations in this flood are A's own: they
# pass the MAC and are refused as reflected.
flood_at static-A "$NS_A" "$PID_A" "$PF_A" "$NS_B" raw 198.18.0.2 7777 198.18.0.1 7778 "$E2E_TMP/init-A.bin" reflected

step "3. spoofed flood at passive B from 198.19.0.0/16 and 198.18.0.3; A restarted under it"
ip netns exec "$NS_B" sysctl -q -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.veth0.rp_filter=0 ||
  die "cannot turn off reverse-path filtering in B's namespace"
spawn helper flood-spoof "$NS_A" "$FLOOD" spoof 198.18.0.3 40000 198.18.0.2 7777 60 "$E2E_TMP/init-A.bin"
SPOOF_PID=$SPAWN_PID SPOOF_LOG=$SPAWN_LOG
# A restarts once the flood has long spent the common budgets (5 seconds' worth refused)
limited0=$(show_counter "$NS_B" "$PF_B" drop_rate_limited)
spent() { (($(show_counter "$NS_B" "$PF_B" drop_rate_limited) - limited0 > 5 * MAC_CHECKS_PER_SEC)); }
wait_for 10 spent || die "3: the spoofed flood does not spend B's budget: $(tail -n 3 "$SPOOF_LOG")"
stop_daemon "$PID_A" TERM
T_RESTART=$(now_ms)
start_daemon "$NS_A" -v -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$KEY" --pidfile "$PF_A"
PID_A=$DAEMON_PID
wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "3: no handshake within 10 s of restarting A under the spoofed flood (B: $(drops_line_of "$NS_B" "$PF_B"))"
RESUME=$(since "$T_RESTART")
stop_helper "$SPOOF_PID" TERM
SPOOFED=$(grep '^sent=' "$SPOOF_LOG") || die "3: the spoofed flood sender failed: $(tail -n 5 "$SPOOF_LOG")"
info "3: flood $SPOOFED; restarted A's handshake: first ping reply after $RESUME s; B: $(drops_line_of "$NS_B" "$PF_B")"
RESULTS+=("$(printf '%-10s %s; restarted A: first ping reply after %s s' spoofed "$SPOOFED" "$RESUME")")
pass "3: a genuine handshake under the spoofed flood, tunnel back after $RESUME s"

step "the tunnel still works"
ping_report "$NS_A" 10.99.0.2 5
transfers_both_ways 8 5001
stop_daemon "$PID_A" TERM
stop_daemon "$PID_B" TERM

step "summary (limits: 20000 MAC checks/s, 50 handshakes/s, 2000 and 10 a source; CPU < $CPU_LIMIT_PCT %, ping loss < $LOSS_LIMIT_PCT %)"
printf '    %s\n' "${RESULTS[@]}"
