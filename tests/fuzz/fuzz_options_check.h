#pragma once

// Shared by fuzz_options and fuzz_config: what parse_options promises about what it
// accepts, and the same options written back as a command line (long options with
// attached values, or short options with separate ones) that must parse to themselves.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli/options.h"
#include "fuzz_support.h"
#include "net/resolve.h"

namespace squtun::fuzz {

using cli::Options;
using cli::UsageError;
using Args = std::vector<std::string>;

inline bool same_options(const Options& a, const Options& b) {
  return a.action == b.action && a.listen_port == b.listen_port && a.bind_address == b.bind_address &&
         a.peer_host == b.peer_host && a.peer_port == b.peer_port && a.interface == b.interface &&
         a.key_file == b.key_file && a.keepalive_seconds == b.keepalive_seconds &&
         a.clock_skew_seconds == b.clock_skew_seconds && a.underlay_mtu == b.underlay_mtu && a.tap == b.tap &&
         a.offload == b.offload && a.foreground == b.foreground && a.pidfile == b.pidfile && a.user == b.user &&
         a.chroot_dir == b.chroot_dir && a.verbosity == b.verbosity && a.addresses == b.addresses &&
         a.routes == b.routes && a.device_mtu == b.device_mtu && a.next_key_file == b.next_key_file &&
         a.clamp_mss == b.clamp_mss && a.show_format == b.show_format;
}

inline bool nonempty(const std::optional<std::string>& s) { return !s || !s->empty(); }

// The option table's entry for a long name; every option written here must have one.
inline const cli::OptionSpec& table_entry(std::string_view long_name) {
  const cli::OptionSpec* spec = cli::find_long_option(long_name);
  require(spec != nullptr);
  return *spec;
}

// Whether n lies in the range the option table gives that option.
inline bool in_range(std::string_view long_name, unsigned long n) {
  const cli::OptionSpec& spec = table_entry(long_name);
  require(spec.range.has_value());
  return n >= spec.range->min && n <= spec.range->max;
}

// What every accepted command line guarantees.
inline void check_options(const Options& o) {
  require(!o.peer_port || in_range("peer-port", *o.peer_port));
  require(in_range("keepalive", o.keepalive_seconds));
  require(!o.clock_skew_seconds || in_range("clock-skew", *o.clock_skew_seconds));
  require(o.underlay_mtu == 0 || in_range("mtu", o.underlay_mtu));
  require(!o.device_mtu || *o.device_mtu == daemon::kAutoMtu || in_range("tun-mtu", *o.device_mtu));
  require(o.verbosity >= -1);
  require(nonempty(o.peer_host) && nonempty(o.pidfile) && nonempty(o.user) && nonempty(o.chroot_dir));
  require(!o.bind_address || net::parse_address(*o.bind_address).has_value());
  switch (o.action) {
    case Options::Action::Run:
      require(in_range("listen", o.listen_port));
      require(!o.interface.empty() && !o.key_file.empty());
      require(o.peer_host.has_value() == o.peer_port.has_value());
      require(o.passive() == !o.peer_host.has_value());
      require(o.underlay_mtu == 0);  // -m makes it another action
      if (o.bind_address && o.peer_host) {
        const auto local = net::literal_family(*o.bind_address);
        const auto remote = net::literal_family(*o.peer_host);
        require(local.has_value());
        require(!remote || *remote == *local);
      }
      break;
    case Options::Action::PrintMtu:
      require(o.underlay_mtu != 0);
      break;
    case Options::Action::Show:
      require(!o.interface.empty());  // a later -i may still change it
      break;
    case Options::Action::SetupDevice:
      require(!o.interface.empty());
      break;
    case Options::Action::Fingerprint:
      require(!o.key_file.empty());
      break;
    case Options::Action::GenerateKey:
    case Options::Action::Help:
    case Options::Action::Version:
      break;
  }
  require(o.show_format == Options::ShowFormat::Text || o.action == Options::Action::Show);
}

// parse_options, which may only throw UsageError (with a message); anything else escapes
// and libFuzzer reports it.
inline std::optional<Options> parse_checked(std::span<const std::string> args) {
  try {
    Options o = cli::parse_options(args);
    check_options(o);
    return o;
  } catch (const UsageError& e) {
    require(std::string_view(e.what()).size() > 0);
    return std::nullopt;
  }
}

enum class Style { LongAttached, ShortSeparate };

// `o` as a command line; parse_options of it gives `o` back.
inline Args command_line(const Options& o, Style style) {
  Args args;
  // `show IFNAME` wants a name that does not look like an option; -i can give any.
  const bool show = o.action == Options::Action::Show;
  const bool show_needs_i = show && o.interface[0] == '-';
  if (show) {
    args.push_back("show");
    args.push_back(show_needs_i ? "placeholder" : o.interface);
  }
  // Short forms where the table has one (ShortSeparate), else long ones.
  auto add = [&](std::string_view long_name, const std::string& value = {}) {
    const cli::OptionSpec& spec = table_entry(long_name);
    const bool short_form = style == Style::ShortSeparate && spec.short_name != '\0';
    const std::string flag = short_form ? std::string("-") + spec.short_name : "--" + std::string(long_name);
    if (spec.argument.empty()) {
      args.push_back(flag);
    } else if (style == Style::LongAttached) {
      args.push_back(flag + "=" + value);
    } else {
      args.push_back(flag);
      args.push_back(value);
    }
  };
  if (o.listen_port != 0) add("listen", std::to_string(o.listen_port));
  if (o.bind_address) add("bind", *o.bind_address);
  if (o.peer_host) add("peer", *o.peer_host);
  if (o.peer_port) add("peer-port", std::to_string(*o.peer_port));
  if (!o.interface.empty() && (!show || show_needs_i)) add("interface", o.interface);
  if (!o.key_file.empty() && o.action != Options::Action::Fingerprint) add("key", o.key_file);
  if (o.next_key_file) add("next-key", *o.next_key_file);
  if (o.keepalive_seconds != 0) add("keepalive", std::to_string(o.keepalive_seconds));
  if (o.clock_skew_seconds) add("clock-skew", std::to_string(*o.clock_skew_seconds));
  if (o.tap) add("tap");
  if (!o.offload) add("no-offload");
  if (!o.clamp_mss) add("no-clamp-mss");
  for (const auto& a : o.addresses) add("address", a.to_string());
  for (const auto& r : o.routes) add("route", r.to_string());
  if (o.device_mtu) add("tun-mtu", *o.device_mtu == daemon::kAutoMtu ? "auto" : std::to_string(*o.device_mtu));
  if (o.show_format == Options::ShowFormat::Json) add("json");
  if (o.show_format == Options::ShowFormat::Prometheus) add("prometheus");
  if (o.foreground) add("foreground");
  if (o.pidfile) add("pidfile", *o.pidfile);
  if (o.user) add("user", *o.user);
  if (o.chroot_dir) add("chroot", *o.chroot_dir);
  if (o.verbosity < 0) add("quiet");
  for (int i = 0; i < o.verbosity; ++i) add("verbose");
  // The action last: the last one given wins (and -m also sets the MTU).
  if (o.underlay_mtu != 0) add("mtu", std::to_string(o.underlay_mtu));
  switch (o.action) {
    case Options::Action::GenerateKey: add("genkey"); break;
    case Options::Action::Version: add("version"); break;
    case Options::Action::Help: add("help"); break;
    case Options::Action::SetupDevice: add("setup-device"); break;
    case Options::Action::Fingerprint: add("fingerprint", o.key_file); break;
    case Options::Action::Run:
    case Options::Action::Show:
    case Options::Action::PrintMtu:
      break;
  }
  return args;
}

// An accepted command line means the same written either way.
inline void check_round_trip(const Options& o) {
  for (const Style style : {Style::LongAttached, Style::ShortSeparate}) {
    const Args again = command_line(o, style);
    const auto reparsed = parse_checked(again);
    require(reparsed.has_value());
    require(same_options(*reparsed, o));
  }
}

}  // namespace squtun::fuzz
