#!/usr/bin/env bash
# tests/lint/shellcheck.sh — every shell script of the source tree passes `shellcheck -S warning`: the
# end-to-end tests and their libraries, scripts/, bench/run.sh, .ci/run and the Debian
# maintainer scripts. A script is a file named *.sh or one whose first line runs sh or bash;
# build directories, bench/.cache and .git are not the tree's. Skipped (77) without shellcheck.
#
# usage: bash tests/lint/shellcheck.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
if ! command -v shellcheck >/dev/null; then
  echo "shellcheck is not installed (apt-get install shellcheck): skipped"
  exit 77
fi

scripts=()
while IFS= read -r -d '' file; do
  if [[ $file == *.sh ]] || head -n 1 "$file" | grep -qE '^#!.*[/ ](ba)?sh( |$)'; then
    scripts+=("$file")
  fi
done < <(find . \( -path ./.git -o -path './build*' -o -path ./bench/.cache \) -prune -o -type f -print0)
((${#scripts[@]} > 0)) || { echo "no shell scripts found under $ROOT" >&2; exit 1; }

# -x follows the `source` lines, so a library is checked with what each test defines.
if shellcheck -x -S warning "${scripts[@]}"; then
  echo "shellcheck: ${#scripts[@]} scripts, no warnings"
else
  echo "shellcheck found warnings in the scripts above (of ${#scripts[@]} checked)" >&2
  exit 1
fi
