#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/endpoint.h"
#include "protocol/counters.h"

namespace squtun::daemon {

// What a running tunnel reports about itself (Tunnel::status()).
struct TunnelStatus {
  std::string interface;
  std::uint16_t listen_port = 0;
  bool offload_tun = false, offload_udp_gso = false, offload_udp_gro = false;
  // Threads that seal packets, and as many that open them (--threads).
  std::size_t threads = 1;
  std::optional<base::Endpoint> peer;
  bool session_up = false;
  // Key fingerprints (crypto::key_fingerprint): the session's, the -k key's, the --next-key
  // key's; "none" where there is none.
  std::string session_key = "none", key = "none", next_key = "none";
  const protocol::Counters& counters;
};

// The printers; each prints every counter of protocol::counter_descriptions() by its name.
// `name: value` lines for `squtun show`: the tunnel's fields, then the counters.
std::string show_text(const TunnelStatus& status);
// One line for SIGUSR1: the peer, then each counter as name=value.
std::string counters_line(const TunnelStatus& status);

// `squtun show --json` and `--prometheus`: show_text as the control socket delivered it, in
// another format. The JSON object has show_text's names, counters as numbers, offloads as
// booleans and a null peer while none is known. The Prometheus text exposition names every
// metric squtun_..., labelled with the interface; `now_unix_ns` dates the handshake age.
// Throws std::runtime_error on text that is not show_text's.
std::string show_json(std::string_view show_text);
std::string show_prometheus(std::string_view show_text, std::int64_t now_unix_ns);

}  // namespace squtun::daemon
