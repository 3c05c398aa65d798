#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/startup.h"

namespace squtun::cli {

// A command line that cannot be run; what() names the flag and the value at fault.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The command line: what the daemon is to run (daemon::Settings), or another action.
struct Options : daemon::Settings {
  enum class Action { Run, Show, SetupDevice, GenerateKey, Fingerprint, PrintMtu, Help, Version };
  enum class ShowFormat { Text, Json, Prometheus };
  Action action = Action::Run;
  ShowFormat show_format = ShowFormat::Text;  // --json, --prometheus
  // Each option as the arguments gave it, (long name, value) in order: what a reload compares.
  std::vector<std::pair<std::string_view, std::string>> given;
  unsigned underlay_mtu = 0;  // -m

  bool passive() const { return !peer_host.has_value(); }
};

// The numbers a numeric option accepts; `what` names them in a usage error.
struct ValueRange {
  unsigned long min, max;
  std::string_view what;
};

struct OptionSpec;

// One option as the command line gave it: as written ("-l" or "--listen") and its value.
struct GivenOption {
  const OptionSpec& spec;
  std::string flag;
  std::string value;
};

// An option of squtun. Adding one means adding its entry to the table in option_table.cpp,
// and its paragraph to docs/squtun.8 (a unit test compares the two).
struct OptionSpec {
  std::string_view long_name;
  char short_name;                  // '\0' if none
  std::string_view argument;        // "PORT"; empty for a flag, which takes no value
  std::optional<ValueRange> range;  // for numbers
  std::string_view section;         // its part of --help and of the man page's OPTIONS
  bool config_file;                 // a config file's `long_name = value` line may set it
  bool reloadable;                  // a running daemon may take a new value from a reload
  void (*apply)(Options& options, const GivenOption& given);  // nullptr: expand_config reads it
  std::string_view help;            // --help lines; "{range}" stands for range's "MIN-MAX"
  std::string_view config_name = {};  // the config file's name for it, if not long_name

  std::string_view config_key() const { return config_name.empty() ? long_name : config_name; }
};

// Every option, in --help order, grouped by section.
std::span<const OptionSpec> option_table();

// The option of that long name (without "--"), or nullptr.
const OptionSpec* find_long_option(std::string_view long_name);

// The option a config file's `name = value` line sets, or nullptr.
const OptionSpec* find_config_option(std::string_view name);

// Parses the arguments after the program name. Throws UsageError.
Options parse_options(std::span<const std::string> args);

// The first option a reload from `before` to `after` would change although only a restart can
// (its table entry is not reloadable), or nothing.
std::optional<std::string_view> restart_only_change(const Options& before, const Options& after);

// The --help text.
std::string usage_text();

// Where the pid file goes unless --pidfile says otherwise.
std::string default_pidfile(const std::string& interface);

}  // namespace squtun::cli
