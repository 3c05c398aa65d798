#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "base/endpoint.h"
#include "protocol/constants.h"
#include "protocol/rate_limiter.h"

namespace squtun::protocol {

using SipKey = std::array<std::uint8_t, 16>;

// SipHash-2-4 (Aumasson and Bernstein): a keyed hash for tables whose keys an attacker
// chooses; without the key, collisions cannot be aimed.
std::uint64_t siphash24(const SipKey& key, std::span<const std::uint8_t> message);

// Each a rate per second, and the burst of one second's worth.
struct SourceLimits {
  unsigned per_source;  // what one source address may spend
  unsigned total;       // what all sources together may spend
  unsigned reserved;    // what the trusted address may spend beyond its share of `total`
};

// A budget of handshake work shared fairly among source addresses, with no allocation per
// datagram: each source draws on its own token bucket, found in a fixed table by a keyed
// hash of its address (two sources may share one), and on a bucket common to all. The
// address that last authenticated (trusted) first draws on a reserved bucket of its own,
// so a flood from other sources, however many, cannot starve it. Pure: time comes in.
class SourceBudget {
 public:
  static constexpr std::size_t kSlots = 1024;

  // `hash_key` must be secret and random (drawn at start-up).
  SourceBudget(SourceLimits limits, const SipKey& hash_key);

  // One unit of work for a datagram from `from`; false if it is over the budget.
  bool allow(const base::Endpoint& from, Duration now);

  // `from` authenticated (a handshake completed, or data arrived from it).
  void trust(const base::Endpoint& from) { trusted_ = from; }

  // The table slot `from` draws on.
  std::size_t slot_of(const base::Endpoint& from) const;

 private:
  SourceLimits limits_;
  SipKey hash_key_;
  TokenBucket total_;
  TokenBucket reserved_;
  std::array<TokenBucket, kSlots> sources_;
  std::optional<base::Endpoint> trusted_;
};

}  // namespace squtun::protocol
