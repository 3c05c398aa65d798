#!/usr/bin/env bash
# test_docs.sh — the man page docs/squtun.8 against the binary:
#   1. `groff -man -ww -z` prints no warning; `man -l` renders it, with every section the
#      administrator needs (options, files, signals, exit status, examples)
#   2. `squtun --help` and the man page's OPTIONS section name the same options, compared both
#      ways (every short -x and long --xxx; and a short and a long option given together on
#      one line of --help are paired the same way in the man page)
#   3. the comparison itself catches a missing option (run on a doctored copy), so the test
#      can fail
#   4. the EXAMPLES section covers the static pair, NAT, ifupdown and systemd
# Needs no root and no network; installs groff-base and man-db if missing (unless
# SQUTUN_NO_INSTALL=1).
#
# usage: bash test_docs.sh [path/to/squtun]
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# No namespaces here, so no e2e_init (which wants root): the binary, a temp dir, lib's cleanup.
bin=${1:-$REPO_ROOT/build/squtun}
[[ -f $bin && -x $bin ]] || die "squtun binary not found or not executable: $bin (build it first)"
SQUTUN=$(realpath "$bin")
E2E_TMP=$(mktemp -d "/tmp/squtun-e2e.$TEST_NAME.XXXXXX")
E2E_LOGS=$E2E_TMP/logs
E2E_SAN=$E2E_TMP/san
mkdir -p "$E2E_LOGS" "$E2E_SAN"
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
MAN=$REPO_ROOT/docs/squtun.8
[[ -f $MAN ]] || die "$MAN is missing"
info "binary: $SQUTUN   man page: $MAN"

ensure_cmd() {
  local cmd=$1 pkg=$2
  command -v "$cmd" >/dev/null 2>&1 && return 0
  [[ ${SQUTUN_NO_INSTALL:-0} != 1 && $(id -u) -eq 0 ]] || die "$cmd is missing (package $pkg); install it"
  info "installing $pkg for $cmd"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$pkg" >"$E2E_LOGS/apt-$pkg.log" 2>&1 ||
    die "apt-get install $pkg failed"
  command -v "$cmd" >/dev/null 2>&1 || die "$cmd still missing after installing $pkg"
}
ensure_cmd groff groff-base
ensure_cmd man man-db

# ---------------------------------------------------------------------------------------------
step "1. groff -man -ww -z and man -l"
warnings=$(groff -man -ww -z "$MAN" 2>&1) || die "groff -man -ww -z failed:"$'\n'"$warnings"
[[ -z $warnings ]] || die "groff -man -ww -z docs/squtun.8 warns:"$'\n'"$warnings"
pass "groff -man -ww -z: no warnings"

rc=0
MANPAGER=cat PAGER=cat MANWIDTH=80 LC_ALL=C.UTF-8 man -l "$MAN" >"$E2E_TMP/man.txt" 2>"$E2E_LOGS/man-stderr.log" || rc=$?
[[ $rc -eq 0 ]] || die "man -l docs/squtun.8 exited $rc: $(head -n 5 "$E2E_LOGS/man-stderr.log")"
[[ ! -s $E2E_LOGS/man-stderr.log ]] || die "man -l docs/squtun.8 printed on stderr: $(head -n 5 "$E2E_LOGS/man-stderr.log")"
head -n 1 "$E2E_TMP/man.txt" | grep -q 'SQUTUN(8)' || die "man -l: the first line is not the SQUTUN(8) header: $(head -n 1 "$E2E_TMP/man.txt")"
for section in NAME SYNOPSIS DESCRIPTION OPTIONS FILES SIGNALS "EXIT STATUS" EXAMPLES "SEE ALSO"; do
  grep -q "^$section\$" "$E2E_TMP/man.txt" || die "man -l: no $section section in the rendered page"
done
pass "man -l renders $(wc -l <"$E2E_TMP/man.txt") lines, all sections there"

# ---------------------------------------------------------------------------------------------
step "2. --help and the man page's OPTIONS name the same options"

# tokens — each input line's options (-x, --xxx), space-separated; lines without any dropped
tokens() {
  awk '{
    s = $0; out = ""
    while (match(s, /(^|[^A-Za-z0-9-])--?[A-Za-z0-9][A-Za-z0-9-]*/)) {
      tok = substr(s, RSTART, RLENGTH); sub(/^[^-]/, "", tok)
      out = out (out == "" ? "" : " ") tok
      s = substr(s, RSTART + RLENGTH)
    }
    if (out != "") print out
  }'
}

# help_options HELPFILE — the option lines of --help ("  -l, --listen PORT    text", or
# "      --tap    text"): one line per option line, its options separated by spaces
help_options() {
  sed -n -E 's/^ {2,6}(-[^ ]*( [^ ]+)*).*/\1/p' "$1" | sed -E 's/  .*//' | tokens
}

# man_options MANFILE — the tags of the OPTIONS section (the line after .TP or .TQ, or the
# argument of .IP), roff escapes and font macros removed: one line per tag, as above
man_options() {
  awk '
    /^\.SH/ { in_opts = ($0 ~ /^\.SH +"?OPTIONS"?[[:space:]]*$/); tag = 0; next }
    !in_opts { next }
    /^\.(TP|TQ)/ { tag = 1; next }
    /^\.IP/ { sub(/^\.IP/, ""); print; next }
    tag { tag = 0; print }' "$1" |
    sed -E -e 's/\\f(\[[^]]*\]|\([A-Za-z]{2}|[A-Za-z0-9])//g' -e 's/\\-/-/g' -e 's/\\~|\\ / /g' \
      -e 's/\\&|\\\/|\\,//g' -e "s/\\\\\(aq/'/g" -e 's/\\\((em|en)/ /g' -e 's/^\.[A-Za-z]+//' |
    tokens
}

# compare HELP_LINES MAN_LINES — both ways, and the pairs; prints each difference, 1 if any
compare() {
  local help_lines=$1 man_lines=$2 bad=0 o line
  sort -u <(tr ' ' '\n' <"$help_lines") | grep . >"$E2E_TMP/cmp-help" || true
  sort -u <(tr ' ' '\n' <"$man_lines") | grep . >"$E2E_TMP/cmp-man" || true
  for o in $(comm -23 "$E2E_TMP/cmp-help" "$E2E_TMP/cmp-man"); do
    echo "  $o: in --help, not in the man page's OPTIONS"
    bad=1
  done
  for o in $(comm -13 "$E2E_TMP/cmp-help" "$E2E_TMP/cmp-man"); do
    echo "  $o: in the man page's OPTIONS, not in --help"
    bad=1
  done
  # pairs: a help line "-x --long" must be paired the same way on some man tag line
  while read -r line; do
    [[ $line =~ ^(-[A-Za-z0-9])\ (--[A-Za-z0-9-]+)$ ]] || continue
    if ! grep -Eq "(^| )${BASH_REMATCH[1]}( .*)? ${BASH_REMATCH[2]}( |$)|(^| )${BASH_REMATCH[2]}( .*)? ${BASH_REMATCH[1]}( |$)" "$man_lines"; then
      echo "  ${BASH_REMATCH[1]}, ${BASH_REMATCH[2]}: paired in --help, not on one line of the man page's OPTIONS"
      bad=1
    fi
  done <"$help_lines"
  return $bad
}

rc=0
"$SQUTUN" --help >"$E2E_TMP/help.txt" 2>&1 || rc=$?
[[ $rc -eq 0 ]] || die "squtun --help exited $rc"
"$SQUTUN" -h >"$E2E_TMP/help-h.txt" 2>&1 || die "squtun -h failed"
cmp -s "$E2E_TMP/help.txt" "$E2E_TMP/help-h.txt" || die "squtun -h and squtun --help print different texts"
help_options "$E2E_TMP/help.txt" >"$E2E_TMP/help-options"
man_options "$MAN" >"$E2E_TMP/man-options"
n_help=$(tr ' ' '\n' <"$E2E_TMP/help-options" | sort -u | grep -c .) || true
n_man=$(tr ' ' '\n' <"$E2E_TMP/man-options" | sort -u | grep -c .) || true
# sanity: the extraction found the options every squtun has
for o in -l --listen -p --peer -r --peer-port -i --interface -k --key -m --mtu -h --help; do
  grep -Eq "(^| )$o( |$)" "$E2E_TMP/help-options" || die "extracted no $o from --help (extraction broken?):"$'\n'"$(cat "$E2E_TMP/help-options")"
  grep -Eq "(^| )$o( |$)" "$E2E_TMP/man-options" || die "extracted no $o from the man page's OPTIONS (missing, or extraction broken?):"$'\n'"$(cat "$E2E_TMP/man-options")"
done
if ! diffs=$(compare "$E2E_TMP/help-options" "$E2E_TMP/man-options"); then
  die "--help and docs/squtun.8 disagree on the options:"$'\n'"$diffs"
fi
pass "--help and the man page's OPTIONS both name the same $n_help options, paired alike"
[[ $n_help -eq $n_man ]] || die "counted $n_help options in --help but $n_man in the man page"

# ---------------------------------------------------------------------------------------------
step "3. the comparison catches a difference"
# A man page without --genkey's tag, and one whose -v is paired with another long option.
awk '/^\.TP/ { tp = NR } tp && NR == tp + 1 && /genkey/ { print ".TP"; print ".B \\-\\-no\\-such\\-option"; tp = 0; next } { print }' \
  "$MAN" | sed '/^\.TP$/{N;/\n\.B \\-\\-no\\-such\\-option$/{s/^\.TP\n//}}' >"$E2E_TMP/doctored.8"
man_options "$E2E_TMP/doctored.8" >"$E2E_TMP/doctored-options"
grep -q -- '--no-such-option' "$E2E_TMP/doctored-options" || die "could not doctor the man page for the negative check"
if out=$(compare "$E2E_TMP/help-options" "$E2E_TMP/doctored-options"); then
  die "the comparison did not notice --genkey missing from (and --no-such-option added to) the man page"
fi
grep -q -- '--genkey: in --help, not in' <<<"$out" || die "missing --genkey not reported: $out"
grep -q -- '--no-such-option: in the man page' <<<"$out" || die "extra --no-such-option not reported: $out"
sed 's/^\(  -v, \)--verbose/\1--verbatim /' "$E2E_TMP/help.txt" >"$E2E_TMP/help-doctored.txt"
help_options "$E2E_TMP/help-doctored.txt" >"$E2E_TMP/help-doctored-options"
if out=$(compare "$E2E_TMP/help-doctored-options" "$E2E_TMP/man-options"); then
  die "the comparison did not notice a --help option the man page lacks (--verbatim)"
fi
pass "a doctored page or help is reported:"$'\n'"$out"

# ---------------------------------------------------------------------------------------------
step "4. EXAMPLES: static pair, NAT, ifupdown, systemd"
awk '/^\.SH +"?EXAMPLES/ { on = 1; next } /^\.SH/ { on = 0 } on' "$MAN" | sed 's/\\-/-/g' >"$E2E_TMP/examples"
grep -Eq -- '-l +[0-9]+ +-p +[^ ]+ +-r +[0-9]+' "$E2E_TMP/examples" || die "EXAMPLES: no static pair (-l PORT -p HOST -r PORT)"
grep -Eq -- '-a +[0-9]+' "$E2E_TMP/examples" || die "EXAMPLES: no NAT example (an end with -a keepalives)"
grep -Eq '^ *iface +[a-z0-9]+ +inet' "$E2E_TMP/examples" || die "EXAMPLES: no ifupdown stanza (iface ... inet ...)"
grep -q 'squtun@' "$E2E_TMP/examples" || die "EXAMPLES: no systemd example (squtun@IFNAME)"
grep -q '/etc/squtun/' "$E2E_TMP/examples" || die "EXAMPLES: the systemd example does not show /etc/squtun/IFNAME.conf"
pass "EXAMPLES covers the static pair, NAT, ifupdown and systemd"
