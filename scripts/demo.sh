#!/usr/bin/env bash
# scripts/demo.sh — squtun in one command: installs what it needs, builds build/squtun, makes
# two network namespaces joined by a veth pair (the "two machines"), runs README.md's static
# pair between them, shows a ping and an iperf3 figure through the tunnel, and removes
# everything again (namespaces, processes, files) on exit.  Needs root (re-runs with sudo).
#
#   bash scripts/demo.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
if [[ $(id -u) -ne 0 ]]; then
  exec sudo --preserve-env=SQUTUN_NO_INSTALL bash "$0" "$@"
fi
# shellcheck source=scripts/deps.sh
source "$ROOT/scripts/deps.sh"

echo "== installing what the demo needs"
install_deps build-essential cmake pkg-config libssl-dev libseccomp-dev libmnl-dev libgtest-dev iperf3 iproute2 \
  iputils-ping socat procps util-linux

echo "== building build/squtun"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"${JOBS:-2}" --target squtun

# shellcheck source=tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"
e2e_init "$ROOT/build/squtun"
E2E_DONE_MSG="demo done; daemons, namespaces and key removed"
show() { printf '  # %s\n' "$*"; }

step "two 'machines': network namespaces joined by a veth pair"
netns_pair
show "$NS_A: veth0 198.18.0.1/24      $NS_B: veth0 198.18.0.2/24"

step "one key, shared by both ends"
KEY=$E2E_TMP/demo.key
make_key "$KEY"
show "squtun --genkey > demo.key; chmod 600 demo.key"

step "a TUN device on each end, MTU from squtun -m 1500 ($TUN_MTU)"
tun_up "$NS_A" tun0 10.99.0.1/30
tun_up "$NS_B" tun0 10.99.0.2/30
show "ip tuntap add dev tun0 mode tun; ip addr add 10.99.0.1/30 dev tun0; ip link set tun0 mtu \$(squtun -m 1500) up   (A)"
show "ip tuntap add dev tun0 mode tun; ip addr add 10.99.0.2/30 dev tun0; ip link set tun0 mtu \$(squtun -m 1500) up   (B)"

step "both ends, as in README.md"
show "A: squtun -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k demo.key"
show "B: squtun -l 7777 -p 198.18.0.1 -r 7778 -i tun0 -k demo.key"
# Each with a pid file (and so a control socket) in the demo's own directory, so that a
# squtun this machine runs on its own tun0 keeps /var/run/squtun/squtun-tun0.sock.
start_daemon "$NS_A" -l 7778 -p 198.18.0.2 -r 7777 -i tun0 -k "$KEY" --pidfile "$(pidfile_for a)"
start_daemon "$NS_B" -l 7777 -p 198.18.0.1 -r 7778 -i tun0 -k "$KEY" --pidfile "$(pidfile_for b)"
t0=$(now_ms)
wait_for 10 ns_ping "$NS_A" 10.99.0.2 || die "the tunnel did not come up within 10 s"
info "tunnel up $(since "$t0") s after start"

step "ping 10.99.0.2 (B's tunnel address) from A"
ip netns exec "$NS_A" ping -n -c 5 -i 0.2 10.99.0.2

step "iperf3 through the tunnel, 10 s (A -> B)"
iperf_run "$NS_A" "$NS_B" 10.99.0.2 10
TUNNEL=$IPERF_MBPS
step "for comparison: iperf3 over the bare veth, 3 s"
iperf_run "$NS_A" "$NS_B" 198.18.0.2 3
BARE=$IPERF_MBPS

echo
echo "=============================================================="
printf '  squtun tunnel (ChaCha20-Poly1305 over UDP): %8s Mbit/s\n' "$TUNNEL"
printf '  bare veth, no tunnel:                       %8s Mbit/s\n' "$BARE"
echo "=============================================================="
