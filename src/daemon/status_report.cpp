#include "daemon/status_report.h"

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <utility>
#include <vector>

namespace squtun::daemon {
namespace {

using Fields = std::vector<std::pair<std::string_view, std::string_view>>;

Fields parse_show_text(std::string_view text) {
  Fields fields;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    const std::size_t colon = line.find(": ");
    if (colon == std::string_view::npos || colon == 0)
      throw std::runtime_error("the daemon's status line '" + std::string(line) + "' is not 'name: value'");
    fields.emplace_back(line.substr(0, colon), line.substr(colon + 2));
  }
  if (fields.empty()) throw std::runtime_error("the daemon sent an empty status");
  return fields;
}

std::string_view field(const Fields& fields, std::string_view name) {
  for (const auto& [n, v] : fields)
    if (n == name) return v;
  throw std::runtime_error("the daemon's status has no " + std::string(name) + " line");
}

std::uint64_t number(std::string_view name, std::string_view value) {
  std::uint64_t n = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (error != std::errc() || end != value.data() + value.size())
    throw std::runtime_error("the daemon's " + std::string(name) + " '" + std::string(value) + "' is not a number");
  return n;
}

const protocol::CounterDescription* counter_named(std::string_view name) {
  for (const auto& c : protocol::counter_descriptions())
    if (c.name == name) return &c;
  return nullptr;
}

// Escapes for a JSON string and for a Prometheus label value alike: both take \\, \" and \n.
std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c == '\n' ? std::string_view("\\n") : std::string_view(&c, 1);
  }
  return out + "\"";
}

std::string json_value(std::string_view name, std::string_view value) {
  if (name == "listen_port" || name == "threads" || counter_named(name)) return std::to_string(number(name, value));
  if (name.starts_with("offload_")) return value == "on" ? "true" : "false";
  if ((name == "peer" && value == "(none yet)") || (name.ends_with("key") && value == "none")) return "null";
  return quoted(value);
}

}  // namespace

std::string show_text(const TunnelStatus& status) {
  std::string text;
  auto line = [&text](std::string_view name, std::string_view value) {
    text.append(name).append(": ").append(value).append("\n");
  };
  auto on_off = [](bool on) { return on ? "on" : "off"; };
  line("interface", status.interface);
  line("listen_port", std::to_string(status.listen_port));
  line("offload_tun", on_off(status.offload_tun));
  line("offload_udp_gso", on_off(status.offload_udp_gso));
  line("offload_udp_gro", on_off(status.offload_udp_gro));
  line("threads", std::to_string(status.threads));
  line("peer", status.peer ? status.peer->to_string() : "(none yet)");
  line("session", status.session_up ? "up" : "down");
  line("session_key", status.session_key);
  line("key", status.key);
  line("next_key", status.next_key);
  for (const auto& counter : protocol::counter_descriptions())
    line(counter.name, std::to_string(counter.value(status.counters)));
  return text;
}

std::string counters_line(const TunnelStatus& status) {
  std::string line = "peer " + (status.peer ? status.peer->to_string() : "unknown") + ";";
  for (const auto& counter : protocol::counter_descriptions()) {
    line.append(" ").append(counter.name).append("=");
    line.append(std::to_string(counter.value(status.counters)));
  }
  return line;
}

std::string show_json(std::string_view show_text) {
  std::string json = "{";
  for (const auto& [name, value] : parse_show_text(show_text)) {
    if (json.size() > 1) json += ", ";
    json += quoted(name) + ": " + json_value(name, value);
  }
  return json + "}\n";
}

std::string show_prometheus(std::string_view show_text, std::int64_t now_unix_ns) {
  const Fields fields = parse_show_text(show_text);
  const std::string label = "interface=" + quoted(field(fields, "interface"));
  std::string text;
  auto metric = [&](std::string_view name, std::string_view type, std::string_view help) {
    text.append("# HELP squtun_").append(name).append(" ").append(help).append("\n");
    text.append("# TYPE squtun_").append(name).append(" ").append(type).append("\n");
  };
  auto sample = [&](std::string_view name, const std::string& labels, const std::string& value) {
    text.append("squtun_").append(name).append("{").append(labels).append("} ").append(value).append("\n");
  };
  const std::string_view peer = field(fields, "peer");
  metric("info", "gauge", "always 1; the labels: where the tunnel listens, its peer, key fingerprints");
  sample("info", label + ",listen_port=" + quoted(field(fields, "listen_port")) +
                     ",peer=" + quoted(peer == "(none yet)" ? "" : peer) + ",key=" + quoted(field(fields, "key")) +
                     ",next_key=" + quoted(field(fields, "next_key")) +
                     ",session_key=" + quoted(field(fields, "session_key")), "1");
  metric("threads", "gauge", "threads that seal packets, and as many that open them (--threads)");
  sample("threads", label, std::to_string(number("threads", field(fields, "threads"))));
  metric("session_up", "gauge", "1 while a session with the peer is up");
  sample("session_up", label, field(fields, "session") == "up" ? "1" : "0");
  const std::uint64_t last_ns = number("last_handshake_unix_ns", field(fields, "last_handshake_unix_ns"));
  if (last_ns > 0) {
    metric("last_handshake_seconds", "gauge", "seconds since the last handshake completed");
    const double age = static_cast<double>(now_unix_ns - static_cast<std::int64_t>(last_ns)) / 1e9;
    sample("last_handshake_seconds", label, std::to_string(std::max(age, 0.0)));
  }
  metric("drops_total", "counter", "datagrams and packets dropped, by reason (squtun(8))");
  for (const auto& c : protocol::counter_descriptions()) {
    if (!std::holds_alternative<protocol::DropReason>(c.source)) continue;
    const std::string_view reason = c.name.substr(c.name.find('_') + 1);  // drop_REASON
    sample("drops_total", label + ",reason=" + quoted(reason), std::to_string(number(c.name, field(fields, c.name))));
  }
  for (const auto& c : protocol::counter_descriptions()) {
    if (c.kind != protocol::CounterKind::Counter || std::holds_alternative<protocol::DropReason>(c.source)) continue;
    const std::string name = std::string(c.name) + "_total";
    metric(name, "counter", c.meaning);
    sample(name, label, std::to_string(number(c.name, field(fields, c.name))));
  }
  return text;
}

}  // namespace squtun::daemon
