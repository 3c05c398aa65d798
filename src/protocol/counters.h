#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace squtun::protocol {

// Why a datagram or packet was dropped. The data path counts drops instead of logging
// them, so a flood costs a counter increment, not a log line.
enum class DropReason : std::size_t {
  Malformed,       // not a well-formed squtun message
  WrongSource,     // sender is not the -p/-r peer
  BadMac,          // handshake MAC or data AEAD tag did not authenticate
  Replay,          // data counter seen before or behind the window; stale handshake
  Reflected,       // our own initiation sent back to us
  ClockSkew,       // initiation timestamp further from our clock than -c allows
  UnknownSession,  // no session or pending handshake has that index
  Expired,         // session older than the reject-after time
  RateLimited,     // over the handshake budget
  NoSession,       // outbound packet while no session is up (a handshake is started)
  NoPeer,          // outbound packet while the passive end has not learned its peer
  TooBig,          // inner packet larger than a datagram can carry
  TunWrite,        // the TUN device refused a packet
  TunRead,         // a packet read from the TUN device whose offload header or headers
                   // did not allow cutting it into packets (or the read failed)
  UdpSend,         // the socket refused a datagram
  kCount,
};

std::string_view drop_reason_name(DropReason reason);

// Traffic and drop counters, written by the data-path threads and read by whoever asks.
struct Counters {
  using Counter = std::atomic<std::uint64_t>;
  Counter rx_packets{0}, rx_bytes{0}, tx_packets{0}, tx_bytes{0};
  Counter keepalives_sent{0}, keepalives_received{0};
  Counter initiations_sent{0}, responses_sent{0}, handshakes_completed{0};
  Counter last_handshake_unix_ns{0};
  std::array<Counter, static_cast<std::size_t>(DropReason::kCount)> drops{};

  void add(Counter& c, std::uint64_t n = 1) { c.fetch_add(n, std::memory_order_relaxed); }
  void drop(DropReason reason, std::uint64_t n = 1) { add(drops[static_cast<std::size_t>(reason)], n); }
  std::uint64_t dropped(DropReason reason) const {
    return drops[static_cast<std::size_t>(reason)].load(std::memory_order_relaxed);
  }
};

}  // namespace squtun::protocol
