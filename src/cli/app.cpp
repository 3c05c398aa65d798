#include "cli/app.h"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>

#include "cli/config_file.h"
#include "cli/options.h"
#include "crypto/key_file.h"
#include "daemon/control_socket.h"
#include "daemon/device_setup.h"
#include "daemon/startup.h"
#include "daemon/status_report.h"
#include "net/resolve.h"
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

// The control socket sits beside the pid file, or where the default pid file would be.
std::string control_socket_path(const Options& o) {
  return daemon::ControlSocket::path_beside(o.pidfile.value_or(default_pidfile(o.interface)));
}

std::int64_t unix_time_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int show_status(const Options& o) {
  const std::string text = daemon::query_control_socket(control_socket_path(o));
  switch (o.show_format) {
    case Options::ShowFormat::Text: std::cout << text; break;
    case Options::ShowFormat::Json: std::cout << daemon::show_json(text); break;
    case Options::ShowFormat::Prometheus:
      std::cout << daemon::show_prometheus(text, unix_time_ns());
      break;
  }
  return kExitOk;
}

// A reload reads the same command line and config file again; an option that only a restart
// can change refuses it.
daemon::Reread reread_for(std::vector<std::string> args, Options running) {
  return [args = std::move(args), running = std::move(running)]() -> daemon::Settings {
    const Options now = parse_options(expand_config(args));
    if (const auto option = restart_only_change(running, now))
      throw UsageError("--" + std::string(*option) + " changed: it takes effect only when squtun restarts");
    return now;
  };
}

int run_tunnel(const Options& o, std::span<const std::string> args) {
  if (const std::string problem = tun::interface_name_problem(o.interface); !problem.empty())
    throw UsageError("-i " + o.interface + ": " + problem);
  std::optional<std::string> pidfile = o.pidfile;
  if (!pidfile && !o.foreground) pidfile = default_pidfile(o.interface);
  return daemon::run_daemon(o, pidfile, control_socket_path(o), reread_for({args.begin(), args.end()}, o));
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
      case Options::Action::SetupDevice:
        daemon::setup_existing_device(o);
        return kExitOk;
      case Options::Action::Fingerprint:
        std::cout << crypto::key_fingerprint(crypto::load_key_file(o.key_file)) << "\n";
        return kExitOk;
      case Options::Action::PrintMtu:
        return print_mtu(o);
      case Options::Action::Run:
        return run_tunnel(o, args);
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
