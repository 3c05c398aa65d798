#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>

namespace squtun::cli {

// A command line that cannot be run; what() names the flag and the value at fault.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Options {
  enum class Action { Run, Show, GenerateKey, PrintMtu, Help, Version };
  Action action = Action::Run;

  std::uint16_t listen_port = 0;
  std::optional<std::string> bind_address;  // -b: listen on this one local address only
  std::optional<std::string> peer_host;
  std::optional<std::uint16_t> peer_port;
  std::string interface;
  std::string key_file;
  unsigned keepalive_seconds = 0;
  std::optional<unsigned> clock_skew_seconds;
  unsigned underlay_mtu = 0;

  bool tap = false;  // Ethernet frames on a TAP device instead of IP packets on TUN
  bool offload = true;  // TUN TSO/USO and UDP GSO/GRO where the kernel has them

  bool foreground = false;
  std::optional<std::string> pidfile;
  std::optional<std::string> user;
  std::optional<std::string> chroot_dir;
  int verbosity = 0;  // -q makes it -1, each -v adds one

  bool passive() const { return !peer_host.has_value(); }
};

// Parses the arguments after the program name. Throws UsageError.
Options parse_options(std::span<const std::string> args);

// The --help text.
std::string usage_text();

// Where the pid file goes unless --pidfile says otherwise.
std::string default_pidfile(const std::string& interface);

}  // namespace squtun::cli
