#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "netlink/cidr.h"

namespace squtun::daemon {

inline constexpr unsigned kAutoMtu = 0;  // --tun-mtu auto: from the path to the peer
// --threads: beyond this many cipher workers a tunnel's single lock and in-order sending
// gain nothing, and each worker costs memory and a cipher context.
inline constexpr unsigned kMaxThreads = 16;

// What the daemon is to run, as the command line and the config file give it.
struct Settings {
  std::uint16_t listen_port = 0;
  std::optional<std::string> bind_address;  // -b: listen on this one local address only
  std::optional<std::string> peer_host;     // none: passive, the peer is learnt
  std::optional<std::uint16_t> peer_port;
  std::string interface;
  std::string key_file;
  std::optional<std::string> next_key_file;  // --next-key: also accepted while keys change
  unsigned keepalive_seconds = 0;
  std::optional<unsigned> clock_skew_seconds;

  bool tap = false;     // Ethernet frames on a TAP device instead of IP packets on TUN
  bool offload = true;  // TUN TSO/USO and UDP GSO/GRO where the kernel has them
  bool clamp_mss = true;
  unsigned threads = 0;  // per direction, the reading thread included; 0: the online CPUs, 1 to kMaxThreads

  // Set on the device through netlink before privileges are dropped.
  std::vector<netlink::Cidr> addresses;
  std::vector<netlink::Cidr> routes;  // each through the device
  std::optional<unsigned> device_mtu;

  bool foreground = false;
  std::optional<std::string> pidfile;
  std::optional<std::string> user;
  std::optional<std::string> chroot_dir;
  int verbosity = 0;  // -q makes it -1, each -v adds one
};

// Reads the command line and the config file again: the settings they give now. Throws
// std::runtime_error naming what is wrong, an option that only a restart can change included.
using Reread = std::function<Settings()>;

// Starts the daemon in the phases of startup.cpp and serves until SIGTERM or SIGINT, or until
// its device is gone; returns the exit status. Writes `pidfile` (none: no pid file), answers
// `squtun show` on `control_socket`, and on SIGHUP applies what `reread` gives. Throws what
// fails before it detaches.
int run_daemon(const Settings& settings, const std::optional<std::string>& pidfile,
               const std::string& control_socket, Reread reread);

}  // namespace squtun::daemon
