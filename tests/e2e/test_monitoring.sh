#!/usr/bin/env bash
# test_monitoring.sh — `squtun show IFNAME --json` and `--prometheus` of a live tunnel, read by
# real parsers: Python's json module and the text parser of Debian's python3-prometheus-client.
# Checks the documented field names and types, that counters move with traffic, the drop
# reasons, the interface label, and the metrics file the systemd timer example writes.
#
# usage: bash test_monitoring.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
# The Debian python3 that python3-prometheus-client installs into, not one earlier in PATH.
PY=/usr/bin/python3
[[ -x $PY ]] || die "$PY is missing: apt-get install python3"
"$PY" -c 'import prometheus_client.parser' 2>/dev/null ||
  die "python3-prometheus-client is missing: apt-get install python3-prometheus-client"

netns_pair
tunnel_ends
start_pair -l 7777 -i tun0 -k "$KEY" --pidfile "$PF_B" -- \
  -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$KEY" --pidfile "$PF_A"

# json_of NS PIDFILE — the --json output, checked by Python's json and printed back as
# "name=value" lines (value in JSON)
json_of() {
  ip netns exec "$1" "$SQUTUN" show "${3:-tun0}" --json --pidfile "$2" | "$PY" -c '
import json, sys
text = sys.stdin.read()
assert text.endswith("}\n") and text.count("\n") == 1, "not one line: %r" % text
for k, v in json.loads(text).items():
    print("%s=%s" % (k, json.dumps(v)))'
}

step "--json: every documented field, with its type"
out=$(json_of "$NS_A" "$PF_A") || die "squtun show --json did not give a JSON object"
for f in interface peer session session_key key; do grep -qE "^$f=\"" <<<"$out" || die "--json: $f is not a string:"$'\n'"$out"; done
grep -qx 'next_key=null' <<<"$out" || die "--json: next_key is not null without --next-key:"$'\n'"$out"
for f in offload_tun offload_udp_gso offload_udp_gro; do
  grep -qE "^$f=(true|false)$" <<<"$out" || die "--json: $f is not a boolean:"$'\n'"$out"
done
for f in listen_port threads last_handshake_unix_ns handshakes initiations_sent responses_sent rx_packets rx_bytes \
  tx_packets tx_bytes keepalives_sent keepalives_received drop_malformed drop_wrong_source drop_bad_mac \
  drop_replay drop_reflected drop_clock_skew drop_unknown_session drop_expired drop_rate_limited \
  drop_no_session drop_no_peer drop_too_big drop_tun_write drop_tun_read drop_udp_send; do
  grep -qE "^$f=[0-9]+$" <<<"$out" || die "--json: $f is missing or not a number:"$'\n'"$out"
done
grep -qx 'interface="tun0"' <<<"$out" && grep -qx 'session="up"' <<<"$out" && grep -qx 'listen_port=7778' <<<"$out" &&
  grep -qx 'peer="198.18.0.2:7777"' <<<"$out" || die "--json has the wrong values:"$'\n'"$out"
text=$(show_report "$NS_A" "$PF_A" | sed 's/: /=/')
for f in handshakes drop_replay drop_bad_mac; do
  [[ $(grep "^$f=" <<<"$text") == $(grep "^$f=" <<<"$out") ]] || die "--json and show disagree on $f"
done
pass "--json: $(wc -l <<<"$out") fields, all of the documented types"

step "--json: a passive end that has not met its peer says peer null"
tun_up "$NS_B" tun1 10.98.0.2/30
start_daemon "$NS_B" -l 7790 -i tun1 -k "$KEY" --pidfile "$(pidfile_for lone)"
LONE_PID=$DAEMON_PID
wait_for 10 udp_bound "$NS_B" "$LONE_PID" || die "the lone passive daemon did not bind its socket"
out=$(json_of "$NS_B" "$(pidfile_for lone)" tun1) || die "squtun show --json of the lone end failed"
grep -qx 'peer=null' <<<"$out" && grep -qx 'session="down"' <<<"$out" || die "a lone passive end:"$'\n'"$out"
stop_daemon "$LONE_PID" TERM
pass "peer null, session down"

# prom_of NS PIDFILE — the --prometheus output parsed by prometheus_client, as
# "metric{label=value,...} value" lines, sorted
prom_of() {
  ip netns exec "$1" "$SQUTUN" show tun0 --prometheus --pidfile "$2" | "$PY" -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
for family in text_string_to_metric_families(sys.stdin.read()):
    assert family.documentation, "no HELP for " + family.name
    for s in family.samples:
        labels = ",".join("%s=%s" % kv for kv in sorted(s.labels.items()))
        print("%s{%s} %s %s" % (s.name, labels, repr(s.value), family.type))'
}

# prom_value LINES NAME LABELS — the value of one sample
prom_value() { sed -n "s/^$2{$3} \([^ ]*\) .*/\1/p" <<<"$1"; }

step "--prometheus: parsed, every metric labelled with the interface, counters move with traffic"
before=$(prom_of "$NS_A" "$PF_A") || die "prometheus_client could not parse squtun show --prometheus"
tcp_transfer "$NS_A" "$NS_B" 10.99.0.2 5001 4
after=$(prom_of "$NS_A" "$PF_A") || die "prometheus_client could not parse the second scrape"
while read -r line; do
  [[ $line == *interface=tun0* ]] || die "a sample without interface=tun0: $line"
done <<<"$after"
for m in tx_bytes tx_packets rx_packets rx_bytes handshakes initiations_sent responses_sent keepalives_sent \
  keepalives_received; do
  grep -q "^squtun_${m}_total{interface=tun0} .* counter$" <<<"$after" || die "squtun_${m}_total is not a counter:"$'\n'"$after"
done
tx0=$(prom_value "$before" squtun_tx_bytes_total interface=tun0)
tx1=$(prom_value "$after" squtun_tx_bytes_total interface=tun0)
"$PY" -c "import sys; sys.exit(0 if $tx1 - $tx0 >= 4 * 1048576 else 1)" ||
  die "squtun_tx_bytes rose by only $tx0 -> $tx1 over a 4 MiB transfer"
[[ $(prom_value "$after" squtun_session_up interface=tun0) == 1.0 ]] || die "squtun_session_up is not 1"
threads=$(show_report "$NS_A" "$PF_A" | awk -F': ' '$1 == "threads" { print $2 }')
[[ $(prom_value "$after" squtun_threads interface=tun0) == "$threads.0" ]] ||
  die "squtun_threads is not show's $threads:"$'\n'"$after"
FP=$("$SQUTUN" --fingerprint "$KEY")
[[ $(prom_value "$after" squtun_info "interface=tun0,key=$FP,listen_port=7778,next_key=none,peer=198.18.0.2:7777,session_key=$FP") == 1.0 ]] ||
  die "squtun_info lacks the peer, port and key labels:"$'\n'"$after"
age=$(prom_value "$after" squtun_last_handshake_seconds interface=tun0)
"$PY" -c "import sys; sys.exit(0 if 0 <= $age < 180 else 1)" || die "squtun_last_handshake_seconds is $age"
reasons=$(grep -c '^squtun_drops_total{interface=tun0,reason=[a-z_]*} .* counter$' <<<"$after")
((reasons == 15)) || die "squtun_drops_total has $reasons reasons, not 15:"$'\n'"$after"
pass "tx_bytes $tx0 -> $tx1 over 4 MiB; session up; handshake ${age} s ago; $reasons drop reasons"

step "the metrics timer's command writes a complete file atomically"
unit=$REPO_ROOT/packaging/systemd/squtun-metrics@.service
cmd=$(sed -n 's/^ExecStart=//p' "$unit")
[[ -n $cmd ]] || die "no ExecStart= in $unit"
textdir=$E2E_TMP/textfile
# %i as systemd expands it; SQUTUN and TEXTFILE_DIR as the unit's Environment= sets them, and the
# pid file of this test's daemon in place of the default one.
cmd=${cmd//%i/tun0}
ip netns exec "$NS_A" env SQUTUN="$SQUTUN" TEXTFILE_DIR="$textdir" \
  sh -c "${cmd//show tun0 --prometheus/show tun0 --prometheus --pidfile $PF_A}" || die "the unit's command failed: $cmd"
[[ -s $textdir/squtun-tun0.prom ]] || die "the unit's command wrote no $textdir/squtun-tun0.prom"
compgen -G "$textdir/*.prom.*" >/dev/null && die "a temporary file was left in $textdir"
"$PY" -c 'import sys; from prometheus_client.parser import text_string_to_metric_families as p; list(p(open(sys.argv[1]).read()))' \
  "$textdir/squtun-tun0.prom" || die "the written file does not parse"
grep -q '^OnUnitActiveSec=' "$REPO_ROOT/packaging/systemd/squtun-metrics@.timer" || die "the timer does not repeat"
pass "squtun-tun0.prom written and parsed"

step "--json without show is refused"
"$SQUTUN" --json >/dev/null 2>&1 && die "squtun --json without show was accepted"
pass "refused"
