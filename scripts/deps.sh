# shellcheck shell=bash
# scripts/deps.sh — sourced by scripts/demo.sh and scripts/test.sh.
#
#   install_deps PKG...   installs the Debian/Ubuntu packages that are missing (apt-get update
#                         first); does nothing when all are present.  SQUTUN_NO_INSTALL=1 skips
#                         installing and only reports what is missing.

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
  echo "deps: installing ${missing[*]}"
  _as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  _as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# clang's libFuzzer runtime package: libclang-rt-14-dev on Debian 12, versioned elsewhere.
fuzzer_runtime_pkg() {
  local v
  v=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n 1)
  echo "libclang-rt-${v:-14}-dev"
}
