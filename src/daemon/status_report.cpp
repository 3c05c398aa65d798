#include "daemon/status_report.h"

namespace squtun::daemon {

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
  line("peer", status.peer ? status.peer->to_string() : "(none yet)");
  line("session", status.session_up ? "up" : "down");
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

}  // namespace squtun::daemon
