#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>

#include "daemon/startup.h"

namespace squtun::cli {

// A command line that cannot be run; what() names the flag and the value at fault.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The command line: what the daemon is to run (daemon::Settings), or another action.
struct Options : daemon::Settings {
  enum class Action { Run, Show, GenerateKey, PrintMtu, Help, Version };
  Action action = Action::Run;
  unsigned underlay_mtu = 0;  // -m

  bool passive() const { return !peer_host.has_value(); }
};

// Parses the arguments after the program name. Throws UsageError.
Options parse_options(std::span<const std::string> args);

// The --help text.
std::string usage_text();

// Where the pid file goes unless --pidfile says otherwise.
std::string default_pidfile(const std::string& interface);

}  // namespace squtun::cli
