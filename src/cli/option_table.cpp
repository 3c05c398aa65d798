#include "cli/options.h"

#include <algorithm>
#include <charconv>
#include <type_traits>

#include "net/resolve.h"
#include "netlink/cidr.h"

namespace squtun::cli {
namespace {

constexpr std::string_view kTunnel = "Tunnel", kDevice = "Device", kActions = "Other actions",
                           kProcess = "Process";
constexpr bool kConfig = true, kCommandLineOnly = false;  // whether a config file may set it
constexpr bool kLive = true, kRestart = false;            // whether a reload may change it

using Action = Options::Action;
using Format = Options::ShowFormat;

constexpr ValueRange kPort{1, 65535, "a UDP port"};
constexpr ValueRange kKeepalive{0, 86400, "a number of seconds"}, kClockSkew{1, 86400, "a number of seconds"};

// The value as a number within the option's range; throws UsageError naming flag and value.
unsigned long number(const GivenOption& g) {
  const ValueRange& range = g.spec.range.value();
  unsigned long n = 0;
  const char* end = g.value.data() + g.value.size();
  const auto [stop, error] = std::from_chars(g.value.data(), end, n);
  if (error != std::errc() || stop != end || n < range.min || n > range.max) {
    throw UsageError(g.flag + ": '" + g.value + "' is not " + std::string(range.what) + " (" +
                     std::to_string(range.min) + " to " + std::to_string(range.max) + ")");
  }
  return n;
}

// The apply functions of most options: store the value, or set a field to a fixed one.
template <auto field>
void store_number(Options& o, const GivenOption& g) {
  o.*field = static_cast<std::remove_reference_t<decltype(o.*field)>>(number(g));
}

template <auto field>
void store_nonempty(Options& o, const GivenOption& g) {
  if (g.value.empty()) throw UsageError(g.flag + ": the value is empty");
  o.*field = g.value;
}

template <auto field, netlink::HostBits host_bits>
void add_cidr(Options& o, const GivenOption& g) {
  try {
    (o.*field).push_back(netlink::parse_cidr(g.value, host_bits));
  } catch (const std::invalid_argument& e) {
    throw UsageError(g.flag + ": '" + g.value + "': " + e.what());
  }
}

template <auto field, auto value>
void set_to(Options& o, const GivenOption&) { o.*field = value; }

const OptionSpec kOptions[] = {
    {"listen", 'l', "PORT", kPort, kTunnel, kConfig, kRestart, store_number<&Options::listen_port>,
     "UDP port to listen on ({range})"},
    {"bind", 'b', "ADDRESS", {}, kTunnel, kConfig, kRestart,
     [](auto& o, auto& g) {
       if (!net::parse_address(g.value)) throw UsageError(g.flag + ": '" + g.value + "' is not an IPv4 or IPv6 address");
       o.bind_address = g.value;
     },
     "listen on this IPv4 or IPv6 address of the host only, and send\n"
     "from it (default: every address, IPv4 and IPv6)"},
    {"peer", 'p', "HOST", {}, kTunnel, kConfig, kLive, store_nonempty<&Options::peer_host>,
     "peer's IPv4 or IPv6 address or host name; omit -p and -r on\n"
     "the end that cannot know its peer (e.g. behind NAT): it learns\n"
     "and re-learns the peer from authenticated packets. A name is\n"
     "looked up at start and again whenever handshakes go unanswered,\n"
     "so a peer whose address changes (dynamic DNS) is found again"},
    {"peer-port", 'r', "PORT", kPort, kTunnel, kConfig, kLive, store_number<&Options::peer_port>,
     "peer's UDP port (with -p); packets from other addresses are dropped"},
    {"interface", 'i', "IFNAME", {}, kTunnel, kConfig, kRestart, store_nonempty<&Options::interface>,
     "TUN device (an existing one owned by this user, or created when\n"
     "run as root)"},
    {"key", 'k', "FILE", {}, kTunnel, kConfig, kLive, store_nonempty<&Options::key_file>,
     "key file: 64 hex digits, mode 0600"},
    {"next-key", '\0', "FILE", {}, kTunnel, kConfig, kLive, store_nonempty<&Options::next_key_file>,
     "a second key file, accepted beside -k while the key changes:\n"
     "see KEY ROTATION in squtun(8)"},
    {"keepalive", 'a', "SECS", kKeepalive, kTunnel, kConfig, kLive, store_number<&Options::keepalive_seconds>,
     "send a keepalive when nothing was sent for SECS seconds, to keep\n"
     "a NAT mapping open ({range}; default 0: off)"},
    {"clock-skew", 'c', "SECS", kClockSkew, kTunnel, kConfig, kLive, store_number<&Options::clock_skew_seconds>,
     "refuse handshakes whose timestamp is more than SECS seconds from\n"
     "this host's clock ({range}; default: no check)"},
    {"tap", '\0', "", {}, kTunnel, kConfig, kRestart, set_to<&Options::tap, true>,
     "carry Ethernet frames on a TAP device (for bridging) instead of\n"
     "IP packets on a TUN device"},
    {"no-offload", '\0', "", {}, kTunnel, kConfig, kRestart, set_to<&Options::offload, false>,
     "move every packet on its own: no TUN segmentation offloads\n"
     "(TSO/USO) and no UDP GSO/GRO (default: use what the kernel\n"
     "offers; TAP devices never use them)"},
    {"no-clamp-mss", '\0', "", {}, kTunnel, kConfig, kRestart, set_to<&Options::clamp_mss, false>,
     "leave the MSS of TCP SYNs alone (default: fit it to the MTU)"},
    {"threads", '\0', "N", ValueRange{1, daemon::kMaxThreads, "a number of threads"}, kTunnel, kConfig, kRestart,
     store_number<&Options::threads>,
     "seal and open packets on N threads per direction: the one that\n"
     "reads them and N-1 workers; packets still leave in the order\n"
     "they were read ({range}; default: the online CPUs)"},
    {"config", '\0', "FILE", {}, kTunnel, kCommandLineOnly, kRestart, nullptr,
     "read options from FILE: lines of 'name = value' named like the\n"
     "long options (flags take yes or no); the command line overrides it"},
    {"address", '\0', "CIDR", {}, kDevice, kConfig, kRestart,
     add_cidr<&Options::addresses, netlink::HostBits::Allowed>,
     "as root: give the device this IPv4 or IPv6 address and prefix\n"
     "length, e.g. 10.99.0.1/30 or fd00::1/64 (repeatable)"},
    {"route", '\0', "CIDR", {}, kDevice, kConfig, kRestart,
     add_cidr<&Options::routes, netlink::HostBits::Refused>,
     "as root: route this network, e.g. 10.77.0.0/24, through the\n"
     "device (repeatable)"},
    {"tun-mtu", '\0', "MTU", ValueRange{68, 65535, "auto or an MTU"}, kDevice, kConfig, kRestart,
     [](auto& o, auto& g) {
       o.device_mtu = g.value == "auto" ? daemon::kAutoMtu : static_cast<unsigned>(number(g));
     },
     "as root: set the device's MTU ({range}), or with auto that of the\n"
     "path to -p less what -m subtracts; in a config file: mtu = ...\n"
     "With any of these three squtun also brings the device up",
     "mtu"},
    {"mtu", 'm', "MTU", ValueRange{1, 65535, "an MTU"}, kActions, kCommandLineOnly, kRestart,
     [](auto& o, auto& g) {
       o.underlay_mtu = static_cast<unsigned>(number(g));
       o.action = Options::Action::PrintMtu;
     },
     "print the TUN MTU for an underlay MTU and exit; subtracts 60\n"
     "bytes (IPv4 20 + UDP 8 + squtun 32), or 80 if -p or -b is an\n"
     "IPv6 address (IPv6 40 + UDP 8 + squtun 32); 14 more with --tap\n"
     "(the Ethernet header). A host name -p is not looked up (its\n"
     "address may change): it counts as IPv6, which fits either\n"
     "family, unless -b gives an IPv4 address"},
    {"json", '\0', "", {}, kActions, kCommandLineOnly, kRestart, set_to<&Options::show_format, Format::Json>,
     "with show: print the status as one JSON object"},
    {"prometheus", '\0', "", {}, kActions, kCommandLineOnly, kRestart,
     set_to<&Options::show_format, Format::Prometheus>,
     "with show: print the status in Prometheus' text format"},
    {"setup-device", '\0', "", {}, kActions, kCommandLineOnly, kRestart, set_to<&Options::action, Action::SetupDevice>,
     "as root: give the existing device -i IFNAME the address, route\n"
     "and mtu settings, then exit (the systemd unit does this before it\n"
     "starts squtun unprivileged, which then leaves them be)"},
    {"fingerprint", '\0', "FILE", {}, kActions, kCommandLineOnly, kRestart,
     [](auto& o, auto& g) {
       store_nonempty<&Options::key_file>(o, g);
       o.action = Action::Fingerprint;
     },
     "print the fingerprint of the key file FILE (8 hex digits, as the\n"
     "log and squtun show name keys) and exit"},
    {"genkey", '\0', "", {}, kActions, kCommandLineOnly, kRestart, set_to<&Options::action, Action::GenerateKey>,
     "print a new random key (64 hex digits) and exit"},
    {"version", 'V', "", {}, kActions, kCommandLineOnly, kRestart, set_to<&Options::action, Action::Version>,
     "print the version and exit"},
    {"help", 'h', "", {}, kActions, kCommandLineOnly, kRestart, set_to<&Options::action, Action::Help>,
     "print this help and exit"},
    {"foreground", 'f', "", {}, kProcess, kConfig, kRestart, set_to<&Options::foreground, true>,
     "stay in the foreground and log to stderr (default: detach, log\n"
     "to syslog, write the pid file)"},
    {"pidfile", '\0', "PATH", {}, kProcess, kConfig, kRestart, store_nonempty<&Options::pidfile>,
     "pid file (default when detached: /var/run/squtun/squtun-IFNAME.pid)"},
    {"user", 'u', "USER", {}, kProcess, kConfig, kRestart, store_nonempty<&Options::user>,
     "after setup, drop root privileges to USER"},
    {"chroot", '\0', "DIR", {}, kProcess, kConfig, kRestart, store_nonempty<&Options::chroot_dir>,
     "after setup, confine the process to DIR"},
    {"verbose", 'v', "", {}, kProcess, kConfig, kLive, [](auto& o, auto&) { ++o.verbosity; },
     "log more (repeat for more detail)"},
    {"quiet", 'q', "", {}, kProcess, kConfig, kLive, set_to<&Options::verbosity, -1>, "log errors only"},
};

}  // namespace

std::span<const OptionSpec> option_table() { return kOptions; }

const OptionSpec* find_config_option(std::string_view name) {
  const auto* spec = std::ranges::find_if(
      kOptions, [name](auto& s) { return s.config_file && s.config_key() == name; });
  return spec == std::end(kOptions) ? nullptr : spec;
}

const OptionSpec* find_long_option(std::string_view long_name) {
  const auto* spec = std::ranges::find(kOptions, long_name, &OptionSpec::long_name);
  return spec == std::end(kOptions) ? nullptr : spec;
}

}  // namespace squtun::cli
