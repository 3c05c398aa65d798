#!/bin/sh
# scripts/install_dirs.sh — the directories `make install` had to create, so that
# `make uninstall` removes those and no other: /usr/local/share/man/man8 or
# /usr/local/lib/systemd may belong to other software, or to an install from another tree.
#
#   install_dirs.sh note RECORD DIR...    before installing: each DIR that does not exist, and
#                                         each missing parent of it, is added to RECORD
#   install_dirs.sh remove RECORD DIR...  after uninstalling: each directory in RECORD that is
#                                         a DIR or a parent of one is removed, deepest first,
#                                         and leaves RECORD; one that is not empty stays (and
#                                         stays in RECORD)
set -eu

action=$1
record=$2
shift 2

case $action in
note)
  for dir in "$@"; do
    while [ ! -d "$dir" ]; do
      grep -qxF -- "$dir" "$record" 2>/dev/null || printf '%s\n' "$dir" >>"$record"
      dir=$(dirname -- "$dir")
    done
  done
  ;;
remove)
  [ -f "$record" ] || exit 0
  kept=$(sort -r -- "$record" | while IFS= read -r made; do
    for dir in "$@"; do
      case $dir/ in
      "$made"/*)
        if [ -d "$made" ] && ! rmdir -- "$made" 2>/dev/null; then
          echo "$made is not empty: left in place" >&2
          break
        fi
        continue 2
        ;;
      esac
    done
    printf '%s\n' "$made"
  done)
  if [ -n "$kept" ]; then printf '%s\n' "$kept" >"$record"; else rm -f -- "$record"; fi
  ;;
*)
  echo "usage: $0 note|remove RECORD DIR..." >&2
  exit 2
  ;;
esac
