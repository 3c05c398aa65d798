#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <variant>

namespace squtun::protocol {

// Why a datagram or packet was dropped; counter_descriptions() says what each one means.
// The data path counts drops instead of logging them, so a flood costs a counter increment,
// not a log line.
enum class DropReason : std::size_t {
  Malformed, WrongSource, BadMac, Replay, Reflected, ClockSkew, UnknownSession, Expired,
  RateLimited, NoSession, NoPeer, TooBig, TunWrite, TunRead, UdpSend, kCount
};

// Traffic and drop counters, written by the data-path threads and read by whoever asks.
// Each one is described in counter_descriptions().
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

enum class CounterKind { Counter, Gauge };  // a Counter only rises; a Gauge is a current value

// One counter as every report names and explains it: `squtun show`, the SIGUSR1 line and any
// later format are each a printer over counter_descriptions().
struct CounterDescription {
  std::string_view name;  // the same in every format
  std::variant<Counters::Counter Counters::*, DropReason> source;
  std::string_view meaning;
  CounterKind kind = CounterKind::Counter;

  std::uint64_t value(const Counters& counters) const;
};

// Every counter of Counters once, in the order reports list them.
std::span<const CounterDescription> counter_descriptions();

}  // namespace squtun::protocol
