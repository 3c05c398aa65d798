#include "cli/app.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

#include "cli/config_file.h"
#include "cli/options.h"
#include "crypto/key_file.h"
#include "daemon/control_socket.h"
#include "daemon/detach.h"
#include "daemon/log.h"
#include "daemon/main_loop.h"
#include "daemon/pid_file.h"
#include "daemon/privileges.h"
#include "daemon/tunnel.h"
#include "net/resolve.h"
#include "net/resolver_process.h"
#include "protocol/mtu.h"
#include "tun/tun_device.h"

#ifndef SQUTUN_VERSION
#define SQUTUN_VERSION "unknown"
#endif

namespace squtun::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// The underlay's family for -m: that of -b, else of a -p address. A -p host name is not
// looked up (the address may change, and DNS may not be up when ifupdown asks): it counts
// as IPv6, whose larger header fits either family.
protocol::UnderlayFamily mtu_family(const Options& o) {
  using base::Endpoint;
  std::optional<Endpoint::Family> family;
  if (o.bind_address) family = net::literal_family(*o.bind_address);
  if (!family && o.peer_host) family = net::literal_family(*o.peer_host).value_or(Endpoint::Family::V6);
  return family == Endpoint::Family::V6 ? protocol::UnderlayFamily::V6 : protocol::UnderlayFamily::V4;
}

// The local address of -b, with the -l port.
std::optional<base::Endpoint> bind_endpoint(const Options& o) {
  if (!o.bind_address) return std::nullopt;
  return net::parse_address(*o.bind_address, o.listen_port);
}

int print_mtu(const Options& o) {
  const auto family = mtu_family(o);
  const auto payload = o.tap ? protocol::Payload::EthernetFrame : protocol::Payload::IpPacket;
  const auto mtu = protocol::inner_mtu(o.underlay_mtu, family, payload);
  if (!mtu) {
    const std::size_t minimum = protocol::encapsulation_overhead(family, payload) + protocol::kMinInnerMtu;
    std::cerr << "squtun: -m " << o.underlay_mtu << ": an underlay MTU below " << minimum
              << " leaves no room for a " << protocol::kMinInnerMtu << "-byte inner packet\n";
    return kExitUsage;
  }
  std::cout << *mtu << "\n";
  return kExitOk;
}

// Everything that can be refused is checked here, before anything starts.
void check_interface(const Options& o) {
  if (const std::string problem = tun::interface_name_problem(o.interface); !problem.empty()) {
    throw UsageError("-i " + o.interface + ": " + problem);
  }
  if (geteuid() != 0 && !tun::interface_exists(o.interface)) {
    throw std::runtime_error("-i " + o.interface + ": no such interface; create it as root with: ip tuntap add dev " +
                             o.interface + (o.tap ? " mode tap" : " mode tun") + " user $(id -un)");
  }
}

// An existing TAP device (SquTUN's README makes one with `tunctl -t tun0`) is used as TAP even
// without --tap, so SquTUN's ifupdown stanza works as written; both ends then carry
// Ethernet frames.
tun::TunDevice open_device(const Options& o) {
  if (o.tap) return tun::TunDevice::open(o.interface, tun::Mode::Tap);
  if (tun::existing_device_mode(o.interface) == tun::Mode::Tap) {
    daemon::log_info(o.interface + " is a TAP device (as tunctl makes them): carrying Ethernet frames");
    return tun::TunDevice::open(o.interface, tun::Mode::Tap);
  }
  return tun::TunDevice::open(o.interface, tun::Mode::Tun, o.offload);
}

// A socket bound to one address (-b) reaches only peers of its family.
base::Endpoint::Family peer_family(const Options& o) {
  const auto local = bind_endpoint(o);
  return local ? local->family : base::Endpoint::Family::None;
}

// -p NAME: a helper process looks the name up again whenever handshakes go unanswered
// (net/resolver_process.h). It runs as the daemon will (--user), but outside --chroot,
// where /etc/hosts and /etc/resolv.conf are. Forked while the process has one thread.
std::optional<net::ResolverProcess> peer_name_resolver(const Options& o, const std::optional<daemon::TargetUser>& user) {
  if (!o.peer_host || net::literal_family(*o.peer_host)) return std::nullopt;
  const std::string host = *o.peer_host;
  const std::uint16_t port = *o.peer_port;
  const base::Endpoint::Family family = peer_family(o);
  return net::ResolverProcess::spawn([host, port, family] { return net::resolve_endpoint(host, port, family); },
                                     [&user] { daemon::drop_privileges(user, std::nullopt); });
}

protocol::PeerConfig peer_config(const Options& o) {
  protocol::PeerConfig config;
  if (o.peer_host) config.fixed_endpoint = net::resolve_endpoint(*o.peer_host, *o.peer_port, peer_family(o));
  config.persistent_keepalive = std::chrono::seconds(o.keepalive_seconds);
  if (o.clock_skew_seconds) config.max_clock_skew = std::chrono::seconds(*o.clock_skew_seconds);
  return config;
}

std::optional<std::string> pidfile_path(const Options& o) {
  if (o.pidfile) return o.pidfile;
  if (o.foreground) return std::nullopt;
  return default_pidfile(o.interface);
}

// The control socket sits beside the pid file, or where the default pid file would be.
std::string control_socket_path(const Options& o) {
  return daemon::ControlSocket::path_beside(o.pidfile.value_or(default_pidfile(o.interface)));
}

// `squtun show` must not cost a tunnel: without a writable directory it only warns.
std::unique_ptr<daemon::ControlSocket> open_control_socket(const Options& o) {
  try {
    daemon::ensure_pid_directory(control_socket_path(o));
    return std::make_unique<daemon::ControlSocket>(control_socket_path(o));
  } catch (const std::exception& e) {
    daemon::log_warning(std::string(e.what()) + "; 'squtun show' will not work");
    return nullptr;
  }
}

int show_status(const Options& o) {
  std::cout << daemon::query_control_socket(control_socket_path(o));
  return kExitOk;
}

void log_offloads(const tun::TunDevice& tun, const net::UdpSocket& socket) {
  const tun::Offloads& offloads = tun.offloads();
  auto on_off = [](bool on) { return on ? "on" : "off"; };
  daemon::log_debug(std::string("offloads: TUN TSO ") + on_off(offloads.tso) + ", USO " + on_off(offloads.uso) +
                    "; UDP GSO " + on_off(socket.gso_enabled()) + ", GRO " + on_off(socket.gro_enabled()));
}

int run_tunnel(const Options& o) {
  daemon::configure_log(daemon::log_level_for_verbosity(o.verbosity), daemon::LogSink::Stderr);
  const crypto::Key key = crypto::load_key_file(o.key_file);
  check_interface(o);
  const protocol::PeerConfig config = peer_config(o);
  std::optional<daemon::TargetUser> user;
  if (o.user) user = daemon::lookup_user(*o.user);
  tun::TunDevice tun = open_device(o);
  const auto local = bind_endpoint(o);
  const net::SocketOptions socket_options{.offload = o.offload};
  net::UdpSocket socket = local ? net::UdpSocket::bind_to(*local, socket_options)
                                : net::UdpSocket::bind_any(o.listen_port, socket_options);
  log_offloads(tun, socket);

  daemon::block_daemon_signals();

  daemon::Detacher detacher;
  if (!o.foreground) detacher.detach();
  try {
    std::unique_ptr<daemon::PidFile> pidfile;
    if (const auto path = pidfile_path(o)) {
      daemon::ensure_pid_directory(*path);
      pidfile = std::make_unique<daemon::PidFile>(*path);
      if (user) pidfile->give_to(*user);
    }
    const auto control = open_control_socket(o);
    if (control && user) control->give_to(user->uid, user->gid);
    if (pidfile && control) pidfile->also_remove(control->path());
    if (pidfile && o.chroot_dir) pidfile->remove_from_outside_chroot(user);
    daemon::Tunnel tunnel(std::move(tun), std::move(socket), key, config);
    if (o.clamp_mss) tunnel.clamp_mss();
    if (auto resolver = peer_name_resolver(o, user)) tunnel.follow_peer_name(*o.peer_host, std::move(*resolver));
    // Connects to syslog now: /dev/log is out of reach once chrooted.
    if (detacher.detached()) {
      daemon::configure_log(daemon::log_level_for_verbosity(o.verbosity), daemon::LogSink::Syslog);
    }
    daemon::drop_privileges(user, o.chroot_dir);
    tunnel.start();
    daemon::log_info("tunnel up on " + o.interface + ", listening on UDP port " + std::to_string(o.listen_port) +
                     (o.peer_host ? ", peer " + config.fixed_endpoint->to_string() : ", waiting for the peer"));
    const base::Fd signals = daemon::open_signal_fd();
    detacher.report_ready();
    daemon::lock_down_running_process();
    const bool signalled = daemon::serve_until_stopped(signals, tunnel, control.get());
    tunnel.stop();
    if (!signalled) return kExitFailure;
  } catch (const std::exception& e) {
    if (!detacher.detached()) throw;
    daemon::log_error(e.what());
    detacher.report_failure(e.what());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

int run_app(std::span<const std::string> args) {
  try {
    const Options o = parse_options(expand_config({args.begin(), args.end()}));
    switch (o.action) {
      case Options::Action::Help:
        std::cout << usage_text();
        return kExitOk;
      case Options::Action::Version:
        std::cout << "squtun " << SQUTUN_VERSION << "\n";
        return kExitOk;
      case Options::Action::GenerateKey:
        std::cout << crypto::generate_key_hex() << "\n";
        return kExitOk;
      case Options::Action::PrintMtu:
        return print_mtu(o);
      case Options::Action::Run:
        return run_tunnel(o);
      case Options::Action::Show:
        return show_status(o);
    }
  } catch (const UsageError& e) {
    std::cerr << "squtun: " << e.what() << "\nTry 'squtun --help' for the options.\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "squtun: " << e.what() << "\n";
    return kExitFailure;
  }
  return kExitFailure;
}

}  // namespace squtun::cli
