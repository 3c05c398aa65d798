#include "cli/options.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <string_view>

#include "net/resolve.h"

namespace squtun::cli {
namespace {

constexpr unsigned kMaxSeconds = 86400;

struct OptionSpec {
  char short_name;  // '\0' if none
  std::string_view long_name;
  bool takes_value;
  void (*apply)(Options&, const std::string& flag, const std::string& value);
};

std::optional<unsigned long> parse_unsigned(const std::string& value) {
  unsigned long n = 0;
  const char* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, n);
  if (value.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return n;
}

unsigned long parse_in_range(const std::string& flag, const std::string& value, unsigned long min,
                             unsigned long max, std::string_view what) {
  const auto n = parse_unsigned(value);
  if (!n || *n < min || *n > max) {
    throw UsageError(flag + ": '" + value + "' is not " + std::string(what) + " (" +
                     std::to_string(min) + " to " + std::to_string(max) + ")");
  }
  return *n;
}

std::uint16_t parse_port(const std::string& flag, const std::string& value) {
  return static_cast<std::uint16_t>(parse_in_range(flag, value, 1, 65535, "a UDP port"));
}

std::string require_nonempty(const std::string& flag, const std::string& value) {
  if (value.empty()) throw UsageError(flag + ": the value is empty");
  return value;
}

const std::array<OptionSpec, 20> kOptions{{
    {'l', "listen", true,
     [](Options& o, const std::string& f, const std::string& v) { o.listen_port = parse_port(f, v); }},
    {'b', "bind", true,
     [](Options& o, const std::string& f, const std::string& v) {
       if (!net::parse_address(v)) throw UsageError(f + ": '" + v + "' is not an IPv4 or IPv6 address");
       o.bind_address = v;
     }},
    {'p', "peer", true,
     [](Options& o, const std::string& f, const std::string& v) { o.peer_host = require_nonempty(f, v); }},
    {'r', "peer-port", true,
     [](Options& o, const std::string& f, const std::string& v) { o.peer_port = parse_port(f, v); }},
    {'i', "interface", true,
     [](Options& o, const std::string& f, const std::string& v) { o.interface = require_nonempty(f, v); }},
    {'k', "key", true,
     [](Options& o, const std::string& f, const std::string& v) { o.key_file = require_nonempty(f, v); }},
    {'a', "keepalive", true,
     [](Options& o, const std::string& f, const std::string& v) {
       o.keepalive_seconds = static_cast<unsigned>(parse_in_range(f, v, 0, kMaxSeconds, "a number of seconds"));
     }},
    {'c', "clock-skew", true,
     [](Options& o, const std::string& f, const std::string& v) {
       o.clock_skew_seconds = static_cast<unsigned>(parse_in_range(f, v, 1, kMaxSeconds, "a number of seconds"));
     }},
    {'m', "mtu", true,
     [](Options& o, const std::string& f, const std::string& v) {
       o.underlay_mtu = static_cast<unsigned>(parse_in_range(f, v, 1, 65535, "an MTU"));
       o.action = Options::Action::PrintMtu;
     }},
    {'\0', "tap", false, [](Options& o, const std::string&, const std::string&) { o.tap = true; }},
    {'\0', "no-offload", false, [](Options& o, const std::string&, const std::string&) { o.offload = false; }},
    {'f', "foreground", false, [](Options& o, const std::string&, const std::string&) { o.foreground = true; }},
    {'\0', "pidfile", true,
     [](Options& o, const std::string& f, const std::string& v) { o.pidfile = require_nonempty(f, v); }},
    {'u', "user", true,
     [](Options& o, const std::string& f, const std::string& v) { o.user = require_nonempty(f, v); }},
    {'\0', "chroot", true,
     [](Options& o, const std::string& f, const std::string& v) { o.chroot_dir = require_nonempty(f, v); }},
    {'v', "verbose", false, [](Options& o, const std::string&, const std::string&) { ++o.verbosity; }},
    {'q', "quiet", false, [](Options& o, const std::string&, const std::string&) { o.verbosity = -1; }},
    {'\0', "genkey", false,
     [](Options& o, const std::string&, const std::string&) { o.action = Options::Action::GenerateKey; }},
    {'V', "version", false,
     [](Options& o, const std::string&, const std::string&) { o.action = Options::Action::Version; }},
    {'h', "help", false,
     [](Options& o, const std::string&, const std::string&) { o.action = Options::Action::Help; }},
}};

const OptionSpec* find_short(char c) {
  for (const auto& spec : kOptions) {
    if (spec.short_name == c) return &spec;
  }
  return nullptr;
}

const OptionSpec* find_long(std::string_view name) {
  for (const auto& spec : kOptions) {
    if (spec.long_name == name) return &spec;
  }
  return nullptr;
}

// Takes the value of an option that needs one, from "--x=V", "-xV" or the next argument.
std::string take_value(const std::string& flag, std::optional<std::string> attached,
                       std::span<const std::string> args, std::size_t& i) {
  if (attached) return *attached;
  if (i + 1 >= args.size()) throw UsageError(flag + " needs a value");
  return args[++i];
}

void parse_long(const std::string& arg, std::span<const std::string> args, std::size_t& i, Options& o) {
  const auto eq = arg.find('=');
  const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
  const std::string flag = "--" + name;
  const OptionSpec* spec = find_long(name);
  if (!spec) throw UsageError("unknown option '" + flag + "'");
  std::optional<std::string> attached;
  if (eq != std::string::npos) attached = arg.substr(eq + 1);
  if (!spec->takes_value) {
    if (attached) throw UsageError(flag + " takes no value");
    spec->apply(o, flag, {});
    return;
  }
  spec->apply(o, flag, take_value(flag, attached, args, i));
}

void parse_short_cluster(const std::string& arg, std::span<const std::string> args, std::size_t& i,
                         Options& o) {
  for (std::size_t pos = 1; pos < arg.size(); ++pos) {
    const std::string flag = std::string("-") + arg[pos];
    const OptionSpec* spec = find_short(arg[pos]);
    if (!spec) throw UsageError("unknown option '" + flag + "'");
    if (!spec->takes_value) {
      spec->apply(o, flag, {});
      continue;
    }
    std::optional<std::string> attached;
    if (pos + 1 < arg.size()) attached = arg.substr(pos + 1);
    spec->apply(o, flag, take_value(flag, attached, args, i));
    return;
  }
}

void check_run_options(const Options& o) {
  if (o.listen_port == 0) throw UsageError("-l PORT is required: the UDP port to listen on");
  if (o.interface.empty()) throw UsageError("-i IFNAME is required: the TUN interface");
  if (o.key_file.empty()) throw UsageError("-k FILE is required: the key file");
  if (o.peer_host && !o.peer_port) {
    throw UsageError("-p " + *o.peer_host + " needs -r PORT: the peer's UDP port");
  }
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
  if (o.peer_port && !o.peer_host) {
    throw UsageError("-r " + std::to_string(*o.peer_port) +
                     " needs -p HOST (or omit both for a passive end that learns its peer)");
  }
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
      if (i + 1 >= args.size() || args[i + 1].empty() || args[i + 1][0] == '-') {
        throw UsageError("show needs the interface: squtun show IFNAME");
      }
      show = true;
      o.interface = args[++i];
    } else {
      throw UsageError("unexpected argument '" + arg + "'");
    }
  }
  if (show) o.action = Options::Action::Show;
  if (o.action == Options::Action::Run) check_run_options(o);
  return o;
}

std::string default_pidfile(const std::string& interface) {
  return "/var/run/squtun/squtun-" + interface + ".pid";
}

std::string usage_text() {
  return R"(Usage: squtun -l PORT [-p HOST -r PORT] -i IFNAME -k KEYFILE [options]
       squtun --config FILE [options]
       squtun show IFNAME [--pidfile PATH]
       squtun -m MTU [-p HOST] [-b ADDRESS] [--tap]
       squtun --genkey

Carries IP packets between a TUN device and one peer over UDP, each packet sealed with
ChaCha20-Poly1305 under session keys derived from a pre-shared key file.

Tunnel:
  -l, --listen PORT        UDP port to listen on (1-65535)
  -b, --bind ADDRESS       listen on this IPv4 or IPv6 address of the host only, and send
                           from it (default: every address, IPv4 and IPv6)
  -p, --peer HOST          peer's IPv4 or IPv6 address or host name; omit -p and -r on
                           the end that cannot know its peer (e.g. behind NAT): it learns
                           and re-learns the peer from authenticated packets. A name is
                           looked up at start and again whenever handshakes go unanswered,
                           so a peer whose address changes (dynamic DNS) is found again
  -r, --peer-port PORT     peer's UDP port (with -p); packets from other addresses are dropped
  -i, --interface IFNAME   TUN device (an existing one owned by this user, or created when
                           run as root)
  -k, --key FILE           key file: 64 hex digits, mode 0600
  -a, --keepalive SECS     send a keepalive when nothing was sent for SECS seconds, to keep
                           a NAT mapping open (0-86400; default 0: off)
  -c, --clock-skew SECS    refuse handshakes whose timestamp is more than SECS seconds from
                           this host's clock (1-86400; default: no check)
      --tap                carry Ethernet frames on a TAP device (for bridging) instead of
                           IP packets on a TUN device
      --no-offload         move every packet on its own: no TUN segmentation offloads
                           (TSO/USO) and no UDP GSO/GRO (default: use what the kernel
                           offers; TAP devices never use them)
      --config FILE        read options from FILE: lines of 'name = value' named like the
                           long options (flags take yes or no); the command line overrides it

Other actions:
  show IFNAME              print the status and counters of the squtun running on IFNAME
                           (asks it over the socket beside its pid file; root or its user)
  -m, --mtu MTU            print the TUN MTU for an underlay MTU and exit; subtracts 60
                           bytes (IPv4 20 + UDP 8 + squtun 32), or 80 if -p or -b is an
                           IPv6 address (IPv6 40 + UDP 8 + squtun 32); 14 more with --tap
                           (the Ethernet header). A host name -p is not looked up (its
                           address may change): it counts as IPv6, which fits either
                           family, unless -b gives an IPv4 address
      --genkey             print a new random key (64 hex digits) and exit
  -V, --version            print the version and exit
  -h, --help               print this help and exit

Process:
  -f, --foreground         stay in the foreground and log to stderr (default: detach, log
                           to syslog, write the pid file)
      --pidfile PATH       pid file (default when detached: /var/run/squtun/squtun-IFNAME.pid)
  -u, --user USER          after setup, drop root privileges to USER
      --chroot DIR         after setup, confine the process to DIR
  -v, --verbose            log more (repeat for more detail)
  -q, --quiet              log errors only

Signals: SIGTERM or SIGINT stop the tunnel and remove the pid file; SIGUSR1 logs counters.
Exit status: 0 success, 1 setup or runtime error, 2 usage error.
Example: squtun -l 7778 -p 198.51.100.2 -r 7777 -i tun0 -k /usr/local/etc/squtun/site.key
)";
}

}  // namespace squtun::cli
