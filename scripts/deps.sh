# shellcheck shell=bash
# scripts/deps.sh — sourced by scripts/demo.sh and scripts/test.sh.
#
#   install_deps PKG...   installs the Debian/Ubuntu packages that are missing (apt-get update
#                         first); does nothing when all are present.  SQUTUN_NO_INSTALL=1 skips
#                         installing and only reports what is missing.  While another apt or
#                         dpkg holds the package manager's locks (a fresh machine runs one at
#                         boot) it waits, up to SQUTUN_APT_LOCK_TIMEOUT seconds (default 600),
#                         then fails naming the process that holds them.

_as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  else
    sudo "$@"
  fi
}

install_deps() {
  local want=("$@") missing=() p
  if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "deps: not a Debian-style system; make sure these are installed: ${want[*]}" >&2
    return 0
  fi
  for p in "${want[@]}"; do
    if [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) != installed ]]; then
      missing+=("$p")
    fi
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    echo "deps: all ${#want[@]} packages present"
    return 0
  fi
  if [[ ${SQUTUN_NO_INSTALL:-0} == 1 ]]; then
    echo "deps: missing (SQUTUN_NO_INSTALL=1, not installing): ${missing[*]}" >&2
    return 0
  fi
  local deadline=$(($(_now_ms) + ${SQUTUN_APT_LOCK_TIMEOUT:-600} * 1000))
  _wait_for_package_manager "$deadline" || return 1
  echo "deps: installing ${missing[*]}"
  # apt-get waits too, for one that starts between that check and this
  _as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get update -q -o DPkg::Lock::Timeout="$(_seconds_until "$deadline")"
  _as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout="$(_seconds_until "$deadline")" \
    "${missing[@]}"
}

# The locks apt-get and dpkg take (with fcntl; holders of flock locks on them are found too).
PACKAGE_MANAGER_LOCKS=(/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock
  /var/cache/apt/archives/lock)

_now_ms() { local us=${EPOCHREALTIME//[!0-9]/}; echo $((10#$us / 1000)); }
# _seconds_until DEADLINE — whole seconds from now to DEADLINE (an _now_ms value), at least 0
_seconds_until() { local left=$(($1 - $(_now_ms))); echo $((left > 0 ? (left + 999) / 1000 : 0)); }

# _package_manager_holders — "LOCK is held by process PID (COMMAND)" for each lock in
# PACKAGE_MANAGER_LOCKS that a process holds, one a line; nothing when all are free
_package_manager_holders() {
  local lock id pid
  for lock in "${PACKAGE_MANAGER_LOCKS[@]}"; do
    [[ -e $lock ]] || continue
    # /proc/locks names a file MAJOR:MINOR:INODE, the device numbers in hex; a line with "->"
    # is a process waiting for the lock, not holding it
    id=$(stat -c '%Hd %Ld %i' "$lock" | { read -r major minor inode; printf '%02x:%02x:%s' "$major" "$minor" "$inode"; })
    awk -v id="$id" '$2 != "->" { for (i = 3; i <= NF; i++) if ($i == id) print $(i - 1) }' /proc/locks |
      sort -u | while read -r pid; do
        echo "$lock is held by process $pid ($(cat "/proc/$pid/comm" 2>/dev/null || echo gone))"
      done
  done
}

# _wait_for_package_manager DEADLINE — returns once no other apt or dpkg holds the locks;
# 1, with a message naming the holders, if one still does at DEADLINE (an _now_ms value)
_wait_for_package_manager() {
  local deadline=$1 holders said=0
  while holders=$(_package_manager_holders) && [[ -n $holders ]]; do
    if (($(_now_ms) >= deadline)); then
      printf 'deps: gave up waiting for another package manager to finish:\n%s\n' "$holders" >&2
      echo "deps: let it finish (or stop it) and run this again; SQUTUN_APT_LOCK_TIMEOUT=SECONDS waits longer" >&2
      return 1
    fi
    if ((said == 0)); then
      printf 'deps: waiting up to %s s for another package manager to finish:\n%s\n' \
        "$(_seconds_until "$deadline")" "$holders" >&2
      said=1
    fi
    sleep 0.5
  done
}

# clang's libFuzzer runtime package: libclang-rt-14-dev on Debian 12, versioned elsewhere.
fuzzer_runtime_pkg() {
  local v
  v=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n 1)
  echo "libclang-rt-${v:-14}-dev"
}
