#!/usr/bin/env bash
# test_cli.sh — squtun's command line on its own: --genkey, -m, --help, --version, and every
# bad value refused (non-zero exit, a message naming the flag and the value) without leaving a
# process behind.  Each daemon-style invocation runs WITHOUT -f inside an empty scratch network
# namespace, so a wrongly accepted command line would detach a daemon that `ip netns pids` sees.
#
# usage: bash test_cli.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

netns_new cli
NS=$NETNS_NAME
IFN="sqcli$$"
PIDF=$E2E_TMP/cli.pid
KEY=$E2E_TMP/good.key
make_key "$KEY"

CLI_OUT=$E2E_TMP/cli.out CLI_ERR=$E2E_TMP/cli.err CLI_RC=0 CLI_DESC=""
FAILS=0

# run_cli [as USER] ARGS... — squtun ARGS in the scratch namespace; stdout/stderr to files
run_cli() {
  local user=""
  if [[ $1 == as ]]; then
    user=$2
    shift 2
  fi
  CLI_DESC="squtun $*"
  CLI_RC=0
  if [[ -n $user ]]; then
    ip netns exec "$NS" timeout 20 setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups \
      "$SQUTUN" "$@" </dev/null >"$CLI_OUT" 2>"$CLI_ERR" || CLI_RC=$?
  else
    ip netns exec "$NS" timeout 20 "$SQUTUN" "$@" </dev/null >"$CLI_OUT" 2>"$CLI_ERR" || CLI_RC=$?
  fi
}

fail() {
  printf '[%s] FAIL: %s\n' "$TEST_NAME" "$*" >&2
  FAILS=$((FAILS + 1))
}

show_run() {
  printf '    $ %s\n      -> exit %s: %s\n' "${CLI_DESC//$E2E_TMP/\$TMP}" "$CLI_RC" "$(head -n 1 "$CLI_ERR" | head -c 300)"
}

# no_leftovers — nothing may still run in the scratch namespace, and no pid file may exist
no_leftovers() {
  local pids pid
  pids=$(ip netns pids "$NS")
  if [[ -n $pids ]]; then
    fail "'$CLI_DESC' left process(es) behind: $(for pid in $pids; do tr '\0' ' ' <"/proc/$pid/cmdline"; echo; done)"
    for pid in $pids; do kill_foreign "$pid"; done
  fi
  if [[ -e $PIDF ]]; then
    fail "'$CLI_DESC' left pid file $PIDF"
    rm -f "$PIDF"
  fi
}

# mentions FILE VALUE — VALUE appears in FILE (numbers as whole numbers, others literally)
mentions() {
  local file=$1 value=$2
  if [[ $value =~ ^-?[0-9]+$ ]]; then
    grep -qE -- "(^|[^0-9-])${value}([^0-9]|$)" "$file"
  else
    grep -qF -- "$value" "$file"
  fi
}

# refused CODES FLAG_REGEX VALUE [as USER] ARGS... — must exit with one of CODES (e.g. "2" or
# "1 2"), print on stderr a message matching FLAG_REGEX (skipped if empty) and naming VALUE.
refused() {
  local codes=$1 flag_re=$2 value=$3 ok=1
  shift 3
  run_cli "$@"
  if [[ $CLI_RC -eq 0 ]]; then
    fail "'$CLI_DESC' was accepted (exit 0); it must be refused"
    ok=0
  elif [[ $CLI_RC -eq 124 ]]; then
    fail "'$CLI_DESC' did not return within 20 s"
    ok=0
  elif [[ " $codes " != *" $CLI_RC "* ]]; then
    fail "'$CLI_DESC' exited $CLI_RC; expected ${codes// / or } (2 = usage error, 1 = setup error)"
    ok=0
  fi
  if [[ ! -s $CLI_ERR ]]; then
    fail "'$CLI_DESC' printed no message on stderr"
    ok=0
  else
    if [[ -n $flag_re ]] && ! grep -qE -- "$flag_re" "$CLI_ERR"; then
      fail "'$CLI_DESC': message does not name the flag (/$flag_re/): $(head -c 300 "$CLI_ERR")"
      ok=0
    fi
    if [[ -n $value ]] && ! mentions "$CLI_ERR" "$value"; then
      fail "'$CLI_DESC': message does not name the value '$value': $(head -c 300 "$CLI_ERR")"
      ok=0
    fi
  fi
  no_leftovers
  show_run
  if [[ $ok -eq 1 ]]; then
    pass "refused as it should be"
  fi
}

# ---------------------------------------------------------------------------------------------
step "--genkey"
run_cli --genkey
k1=$(cat "$CLI_OUT")
[[ $CLI_RC -eq 0 ]] || fail "--genkey exited $CLI_RC"
run_cli --genkey
k2=$(cat "$CLI_OUT")
if [[ $k1 =~ ^[0-9a-fA-F]{64}$ && $k2 =~ ^[0-9a-fA-F]{64}$ ]]; then
  [[ $(wc -l <"$CLI_OUT") -eq 1 ]] || fail "--genkey output is not exactly one line"
  if [[ $k1 != "$k2" ]]; then
    pass "--genkey prints 64 hex digits and a newline; two runs differ (${k1:0:8}... / ${k2:0:8}...)"
  else
    fail "--genkey printed the same key twice: $k1"
  fi
else
  fail "--genkey output is not 64 hex digits: '$k1' / '$k2'"
fi
no_leftovers

step "-m MTU"
for pair in 1500:1440 9000:8940 1280:1220; do
  run_cli -m "${pair%%:*}"
  got=$(tr -d '[:space:]' <"$CLI_OUT")
  if [[ $CLI_RC -eq 0 && $got == "${pair##*:}" ]]; then
    pass "-m ${pair%%:*} prints $got"
  else
    fail "-m ${pair%%:*}: expected '${pair##*:}' and exit 0, got '$got' (exit $CLI_RC, stderr: $(head -c 200 "$CLI_ERR"))"
  fi
done
no_leftovers

run_cli -m 1500 -p fd00::2
got=$(tr -d '[:space:]' <"$CLI_OUT")
if [[ $CLI_RC -eq 0 && $got == 1420 ]]; then
  pass "-m 1500 -p fd00::2 (IPv6 underlay) prints $got"
else
  fail "-m 1500 -p fd00::2: expected '1420' (IPv6 overhead 80) and exit 0, got '$got' (exit $CLI_RC)"
fi
no_leftovers

step "-h / --help"
for h in -h --help; do
  run_cli "$h"
  [[ $CLI_RC -eq 0 ]] || fail "$h exited $CLI_RC (expected 0)"
  cat "$CLI_OUT" "$CLI_ERR" >"$E2E_TMP/help.txt"
  missing=()
  for f in -l -p -r -i -k -a -c -m -f -u -v -q -V -h; do
    grep -qE -- "(^|[^[:alnum:]-])${f}([^[:alnum:]-]|$)" "$E2E_TMP/help.txt" || missing+=("$f")
  done
  for f in --listen --peer --peer-port --interface --key --keepalive --clock-skew --foreground \
    --pidfile --user --chroot --verbose --quiet --genkey --version --help; do
    grep -qE -- "(^|[^[:alnum:]-])${f}([^[:alnum:]-]|$)" "$E2E_TMP/help.txt" || missing+=("$f")
  done
  grep -qiE 'overhead|subtract' "$E2E_TMP/help.txt" || missing+=("what -m subtracts (overhead)")
  grep -qE '(^|[^0-9])60([^0-9]|$)' "$E2E_TMP/help.txt" || missing+=("the IPv4 overhead figure 60")
  if [[ ${#missing[@]} -eq 0 ]]; then
    pass "$h names every flag and the -m overhead ($(wc -l <"$E2E_TMP/help.txt") lines)"
  else
    fail "$h does not mention: ${missing[*]}"
  fi
done
no_leftovers

step "-V / --version"
for v in -V --version; do
  run_cli "$v"
  out=$(cat "$CLI_OUT")
  if [[ $CLI_RC -eq 0 && $out =~ [0-9]+\.[0-9]+ ]]; then
    pass "$v prints '$out'"
  else
    fail "$v: exit $CLI_RC, output '$out' (expected a version number)"
  fi
done
no_leftovers

step "bad values are refused before anything starts"
# Each case changes one thing in an otherwise valid command line (run without -f inside the
# empty namespace, with its own pid file).
refused 2 '(-l|--listen)' 0 -l 0 -p 198.18.0.2 -r 7001 -i "$IFN" -k "$KEY" --pidfile "$PIDF"
refused 2 '(-l|--listen)' 70000 -l 70000 -p 198.18.0.2 -r 7001 -i "$IFN" -k "$KEY" --pidfile "$PIDF"
refused 2 '(-l|--listen)' abc -l abc -p 198.18.0.2 -r 7001 -i "$IFN" -k "$KEY" --pidfile "$PIDF"
refused 2 '(-r|--peer-port)' 0 -l 7000 -p 198.18.0.2 -r 0 -i "$IFN" -k "$KEY" --pidfile "$PIDF"
refused 2 '(-r|--peer-port)' 70000 -l 7000 -p 198.18.0.2 -r 70000 -i "$IFN" -k "$KEY" --pidfile "$PIDF"
refused 2 '(-a|--keepalive)' -1 -l 7000 -p 198.18.0.2 -r 7001 -a -1 -i "$IFN" -k "$KEY" --pidfile "$PIDF"
refused 2 '(-c|--clock-skew)' -1 -l 7000 -p 198.18.0.2 -r 7001 -c -1 -i "$IFN" -k "$KEY" --pidfile "$PIDF"
refused 2 '(-m|--mtu)' 10 -m 10
refused 2 '(-m|--mtu)' abc -m abc
refused 2 '' --frobnicate -l 7000 -i "$IFN" -k "$KEY" --frobnicate --pidfile "$PIDF"
refused 2 '(-r|--peer-port)' '' -l 7000 -p 198.18.0.2 -i "$IFN" -k "$KEY" --pidfile "$PIDF"
refused 2 '(-i|--interface)' '' -l 7000 -p 198.18.0.2 -r 7001 -k "$KEY" --pidfile "$PIDF"
refused 2 '(-k|--key)' '' -l 7000 -p 198.18.0.2 -r 7001 -i "$IFN" --pidfile "$PIDF"

# key files
refused "1 2" '' "$E2E_TMP/no-such.key" -l 7000 -p 198.18.0.2 -r 7001 -i "$IFN" -k "$E2E_TMP/no-such.key" --pidfile "$PIDF"

open_key=$E2E_TMP/open.key
cp "$KEY" "$open_key"
chmod 644 "$open_key"
refused "1 2" 'chmod 600' "$open_key" -l 7000 -p 198.18.0.2 -r 7001 -i "$IFN" -k "$open_key" --pidfile "$PIDF"

short_key=$E2E_TMP/short.key
(umask 077 && head -c 63 "$KEY" >"$short_key" && echo >>"$short_key")
refused "1 2" '' "$short_key" -l 7000 -p 198.18.0.2 -r 7001 -i "$IFN" -k "$short_key" --pidfile "$PIDF"

bad_key=$E2E_TMP/nonhex.key
(umask 077 && { head -c 63 "$KEY"; echo g; } >"$bad_key")
refused "1 2" '' "$bad_key" -l 7000 -p 198.18.0.2 -r 7001 -i "$IFN" -k "$bad_key" --pidfile "$PIDF"

# a peer name that cannot resolve (.invalid never does; the namespace has no route anyway)
refused "1 2" '' no-such-host.invalid -l 7000 -p no-such-host.invalid -r 7001 -i "$IFN" -k "$KEY" --pidfile "$PIDF"

# unknown interface, not root: an unprivileged user cannot create one, so it must be refused
# with the interface's name (run as nobody with a key nobody owns)
nb_dir=$E2E_TMP/nobody
mkdir -m 0700 "$nb_dir"
cp "$KEY" "$nb_dir/key"
chmod 600 "$nb_dir/key"
chown -R nobody:"$(id -g nobody)" "$nb_dir"
PIDF_SAVED=$PIDF
PIDF=$nb_dir/cli.pid
refused "1 2" '' "sqnone$$" as nobody -l 7000 -p 198.18.0.2 -r 7001 -i "sqnone$$" -k "$nb_dir/key" --pidfile "$PIDF"
PIDF=$PIDF_SAVED

echo
if [[ $FAILS -ne 0 ]]; then
  die "$FAILS CLI check(s) failed (see FAIL lines above)"
fi
pass "every CLI check"
