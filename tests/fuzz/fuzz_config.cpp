// The config file: the input is a config file's text, turned into arguments by
// config_arguments, parsed by parse_options alone and followed by SquTUN's command line,
// and read from a file by expand_config (a memfd reached through /proc/self/fd).
//
// Invariants:
//  - config_arguments throws UsageError naming the file and a line that exists, or returns
//    at most one argument per line, each "--NAME=VALUE" for a setting that takes a value
//    (VALUE trimmed, within one line, without NUL bytes: argv cannot carry one, and the
//    C calls that get these strings would cut them there) or "--FLAG" for a flag;
//  - parse_options of those, alone and after a complete tunnel's -l -i -k, throws UsageError
//    or returns options that run a tunnel and hold what every command line must
//    (fuzz_options_check.h), and parse to themselves again;
//  - with SquTUN's command line after the file, every value the command line gives wins;
//  - expand_config of --config FILE (and --config=FILE), then the command line, gives the
//    file's arguments then the command line's, or the same UsageError.

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "cli/config_file.h"
#include "fuzz_options_check.h"

namespace {

using namespace squtun::fuzz;

// SquTUN's ifupdown line (packaging/interfaces.example).
const Args kSeed{"-l", "3456", "-p", "203.0.113.4", "-r", "3457", "-i", "tun0",
                 "-k", "/usr/local/etc/squtun/mytunnel.key", "-a", "59", "-c", "30"};

// Just what a tunnel needs, for a file to complete or override.
const Args kTunnel{"-l", "7777", "-i", "tun0", "-k", "site.key"};

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// The option table's entry for a setting a config file may give; a flag has no argument.
bool is_setting(std::string_view name, bool flag) {
  const auto* spec = squtun::cli::find_long_option(name);
  return spec && spec->config_file && spec->argument.empty() == flag;
}

void check_argument(std::string_view arg) {
  require(arg.substr(0, 2) == "--");
  require(arg.find('\n') == std::string_view::npos);
  require(arg.find('\0') == std::string_view::npos);
  const auto eq = arg.find('=');
  if (eq == std::string_view::npos) {
    require(is_setting(arg.substr(2), true));
    return;
  }
  require(is_setting(arg.substr(2, eq - 2), false));
  const std::string_view value = arg.substr(eq + 1);
  require(value.empty() || (!is_blank(value.front()) && !is_blank(value.back())));
}

// "ORIGIN:LINE: ..." with 1 <= LINE <= the lines of the text.
void check_error(const UsageError& e, const std::string& origin, std::size_t lines) {
  const std::string_view message = e.what();
  require(message.substr(0, origin.size() + 1) == origin + ":");
  std::size_t pos = origin.size() + 1;
  std::size_t line = 0;
  while (pos < message.size() && message[pos] >= '0' && message[pos] <= '9' && line <= lines) {
    line = line * 10 + static_cast<std::size_t>(message[pos++] - '0');
  }
  require(pos < message.size() && message[pos] == ':');
  require(line >= 1 && line <= lines);
}

std::optional<Args> arguments(std::string_view text, const std::string& origin) {
  const std::size_t lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  try {
    Args args = squtun::cli::config_arguments(text, origin);
    require(args.size() <= lines);
    for (const auto& arg : args) check_argument(arg);
    return args;
  } catch (const UsageError& e) {
    check_error(e, origin, lines);
    return std::nullopt;
  }
}

Args concat(const Args& a, const Args& b) {
  Args all = a;
  all.insert(all.end(), b.begin(), b.end());
  return all;
}

void check_expand(const Args& command_line, const std::optional<Args>& file_args, const std::string& text_error) {
  std::optional<Args> expanded;
  std::string error;
  try {
    expanded = squtun::cli::expand_config(command_line);
  } catch (const UsageError& e) {
    error = e.what();
  }
  if (file_args) {
    require(expanded.has_value());
    require(*expanded == concat(*file_args, kSeed));
  } else {
    require(!expanded.has_value());
    require(error == text_error);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  // The file, when there is a memfd to hold it; its path is the origin in messages.
  const int fd = ::memfd_create("fuzz.conf", MFD_CLOEXEC);
  bool file = fd >= 0;
  for (std::size_t done = 0; file && done < size;) {
    const ssize_t n = ::write(fd, data + done, size - done);
    file = n > 0;
    if (file) done += static_cast<std::size_t>(n);
  }
  const std::string origin = file ? "/proc/self/fd/" + std::to_string(fd) : "/etc/squtun/fuzz.conf";

  const auto args = arguments(text, origin);
  std::string text_error;
  if (!args) {
    try {
      squtun::cli::config_arguments(text, origin);
    } catch (const UsageError& e) {
      text_error = e.what();
    }
  }

  if (args) {
    // The file alone: only settings, so a tunnel or nothing.
    if (const auto o = parse_checked(*args)) {
      require(o->action == Options::Action::Run);
      check_round_trip(*o);
    }
    // The file after a complete tunnel, which it may override.
    if (const auto o = parse_checked(concat(kTunnel, *args))) {
      require(o->action == Options::Action::Run);
      check_round_trip(*o);
    }
    // The command line overrides the file.
    if (const auto o = parse_checked(concat(*args, kSeed))) {
      require(o->action == Options::Action::Run);
      require(o->listen_port == 3456 && o->peer_host == "203.0.113.4" && o->peer_port == 3457);
      require(o->interface == "tun0" && o->key_file == "/usr/local/etc/squtun/mytunnel.key");
      require(o->keepalive_seconds == 59 && o->clock_skew_seconds == 30u);
      check_round_trip(*o);
    }
  }

  if (file) {
    check_expand(concat({"--config", origin}, kSeed), args, text_error);
    check_expand(concat({"--config=" + origin}, kSeed), args, text_error);
  }
  if (fd >= 0) ::close(fd);
  return 0;
}
