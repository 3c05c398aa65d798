#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/endpoint.h"
#include "protocol/counters.h"

namespace squtun::daemon {

// What a running tunnel reports about itself (Tunnel::status()).
struct TunnelStatus {
  std::string interface;
  std::uint16_t listen_port = 0;
  bool offload_tun = false, offload_udp_gso = false, offload_udp_gro = false;
  std::optional<base::Endpoint> peer;
  bool session_up = false;
  const protocol::Counters& counters;
};

// The printers; each prints every counter of protocol::counter_descriptions() by its name.
// `name: value` lines for `squtun show`: the tunnel's fields, then the counters.
std::string show_text(const TunnelStatus& status);
// One line for SIGUSR1: the peer, then each counter as name=value.
std::string counters_line(const TunnelStatus& status);

}  // namespace squtun::daemon
