#include "cli/options.h"

#include <algorithm>
#include <string_view>

#include "net/resolve.h"

namespace squtun::cli {
namespace {

// The option "-x" or "--name" stands for; --config, which expand_config reads before, is
// unknown here like a name that is no option.
const OptionSpec& parser_option(const std::string& flag) {
  for (const auto& spec : option_table()) {
    const bool named = flag[1] == '-' ? flag.substr(2) == spec.long_name
                                      : spec.short_name != '\0' && flag[1] == spec.short_name;
    if (named && spec.apply) return spec;
  }
  throw UsageError("unknown option '" + flag + "'");
}

// Applies one option. One that takes a value gets "--x=V" or "-xV" (`attached`) or else the
// next argument.
void apply_option(const OptionSpec& spec, const std::string& flag, const std::optional<std::string>& attached,
                  std::span<const std::string> args, std::size_t& i, Options& o) {
  if (spec.argument.empty()) {
    if (attached) throw UsageError(flag + " takes no value");
    spec.apply(o, {spec, flag, {}});
    o.given.emplace_back(spec.long_name, "");
    return;
  }
  if (!attached && i + 1 >= args.size()) throw UsageError(flag + " needs a value");
  const std::string& value = attached ? *attached : args[++i];
  spec.apply(o, {spec, flag, value});
  o.given.emplace_back(spec.long_name, value);
}

void parse_long(const std::string& arg, std::span<const std::string> args, std::size_t& i, Options& o) {
  const auto eq = arg.find('=');
  const std::string flag = arg.substr(0, eq);
  std::optional<std::string> attached;
  if (eq != std::string::npos) attached = arg.substr(eq + 1);
  apply_option(parser_option(flag), flag, attached, args, i, o);
}

void parse_short_cluster(const std::string& arg, std::span<const std::string> args, std::size_t& i,
                         Options& o) {
  for (std::size_t pos = 1; pos < arg.size(); ++pos) {
    const std::string flag = std::string("-") + arg[pos];
    const OptionSpec& spec = parser_option(flag);
    const bool takes_value = !spec.argument.empty();
    std::optional<std::string> attached;
    if (takes_value && pos + 1 < arg.size()) attached = arg.substr(pos + 1);
    apply_option(spec, flag, attached, args, i, o);
    if (takes_value) return;
  }
}

void check_run_options(const Options& o) {
  if (o.listen_port == 0) throw UsageError("-l PORT is required: the UDP port to listen on");
  if (o.interface.empty()) throw UsageError("-i IFNAME is required: the TUN interface");
  if (o.key_file.empty()) throw UsageError("-k FILE is required: the key file");
  if (o.peer_host && !o.peer_port)
    throw UsageError("-p " + *o.peer_host + " needs -r PORT: the peer's UDP port");
  if (o.bind_address && o.peer_host) {
    const auto local = net::literal_family(*o.bind_address);
    const auto remote = net::literal_family(*o.peer_host);
    if (local && remote && *local != *remote) {
      auto name = [](base::Endpoint::Family f) {
        return f == base::Endpoint::Family::V4 ? "IPv4" : "IPv6";
      };
      throw UsageError("-b " + *o.bind_address + " is an " + name(*local) + " address and cannot reach the " +
                       name(*remote) + " peer -p " + *o.peer_host);
    }
  }
  if (o.device_mtu == daemon::kAutoMtu && !o.peer_host)
    throw UsageError("mtu auto needs -p HOST, whose path it measures; give a passive end a number");
  if (o.peer_port && !o.peer_host) {
    throw UsageError("-r " + std::to_string(*o.peer_port) +
                     " needs -p HOST (or omit both for a passive end that learns its peer)");
  }
}

// A --help entry: `head` ("  -l, --listen PORT"), then `text` from column 27 on, each of its
// lines there.
std::string help_entry(std::string head, std::string_view text) {
  constexpr std::size_t kTextColumn = 27;
  head.resize(std::max(kTextColumn, head.size() + 2), ' ');
  for (const char c : text) head += c == '\n' ? "\n" + std::string(kTextColumn, ' ') : std::string(1, c);
  return head + "\n";
}

std::string help_entry(const OptionSpec& spec) {
  const std::string short_form = spec.short_name ? std::string("-") + spec.short_name + ", " : "    ";
  const std::string argument = spec.argument.empty() ? "" : " " + std::string(spec.argument);
  std::string text(spec.help);
  if (const auto at = text.find("{range}"); at != std::string::npos)
    text.replace(at, 7, std::to_string(spec.range->min) + "-" + std::to_string(spec.range->max));
  return help_entry("  " + short_form + "--" + std::string(spec.long_name) + argument, text);
}

}  // namespace

Options parse_options(std::span<const std::string> args) {
  Options o;
  bool show = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) == 0 && arg.size() > 2) {
      parse_long(arg, args, i, o);
    } else if (arg.size() > 1 && arg[0] == '-') {
      parse_short_cluster(arg, args, i, o);
    } else if (arg == "show" && !show) {
      if (i + 1 >= args.size() || args[i + 1].empty() || args[i + 1][0] == '-')
        throw UsageError("show needs the interface: squtun show IFNAME");
      show = true;
      o.interface = args[++i];
    } else {
      throw UsageError("unexpected argument '" + arg + "'");
    }
  }
  if (show) o.action = Options::Action::Show;
  if (!show && o.show_format != Options::ShowFormat::Text)
    throw UsageError(std::string(o.show_format == Options::ShowFormat::Json ? "--json" : "--prometheus") +
                     " goes with show: squtun show IFNAME " +
                     (o.show_format == Options::ShowFormat::Json ? "--json" : "--prometheus"));
  if (o.action == Options::Action::Run) check_run_options(o);
  if (o.action == Options::Action::SetupDevice && o.interface.empty())
    throw UsageError("--setup-device needs -i IFNAME: the device to set up");
  return o;
}

std::optional<std::string_view> restart_only_change(const Options& before, const Options& after) {
  auto values_of = [](const Options& o, std::string_view name) {
    std::vector<std::string> values;
    for (const auto& [given, value] : o.given)
      if (given == name) values.push_back(value);
    return values;
  };
  for (const auto& spec : option_table())
    if (!spec.reloadable && values_of(before, spec.long_name) != values_of(after, spec.long_name)) return spec.long_name;
  return std::nullopt;
}

std::string default_pidfile(const std::string& interface) {
  return "/var/run/squtun/squtun-" + interface + ".pid";
}

std::string usage_text() {
  std::string text = R"(Usage: squtun -l PORT [-p HOST -r PORT] -i IFNAME -k KEYFILE [options]
       squtun --config FILE [options]
       squtun show IFNAME [--json | --prometheus] [--pidfile PATH]
       squtun -m MTU [-p HOST] [-b ADDRESS] [--tap]
       squtun --genkey
       squtun --fingerprint KEYFILE
       squtun --config FILE -i IFNAME --setup-device

Carries IP packets between a TUN device and one peer over UDP, each packet sealed with
ChaCha20-Poly1305 under session keys derived from a pre-shared key file.
)";
  std::string_view section;
  for (const auto& spec : option_table()) {
    if (spec.section != section) {
      section = spec.section;
      text += "\n" + std::string(section) + ":\n";
      if (section == "Other actions") {
        text += help_entry("  show IFNAME",
                           "print the status and counters of the squtun running on IFNAME\n"
                           "(asks it over the socket beside its pid file; root or its user)");
      }
    }
    text += help_entry(spec);
  }
  return text + R"(
Signals: SIGTERM or SIGINT stop the tunnel and remove the pid file; SIGUSR1 logs counters.
Exit status: 0 success, 1 setup or runtime error, 2 usage error.
Example: squtun -l 7778 -p 198.51.100.2 -r 7777 -i tun0 -k /usr/local/etc/squtun/site.key
)";
}

}  // namespace squtun::cli
