#include "protocol/source_budget.h"

#include <bit>

#include "base/byte_order.h"

namespace squtun::protocol {
namespace {

struct SipState {
  std::uint64_t v0, v1, v2, v3;

  void round() {
    v0 += v1;
    v1 = std::rotl(v1, 13) ^ v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16) ^ v2;
    v0 += v3;
    v3 = std::rotl(v3, 21) ^ v0;
    v2 += v1;
    v1 = std::rotl(v1, 17) ^ v2;
    v2 = std::rotl(v2, 32);
  }
  void absorb(std::uint64_t m, int rounds) {
    v3 ^= m;
    for (int i = 0; i < rounds; ++i) round();
    v0 ^= m;
  }
};

}  // namespace

std::uint64_t siphash24(const SipKey& key, std::span<const std::uint8_t> message) {
  const std::uint64_t k0 = base::load_le<std::uint64_t>(key.data());
  const std::uint64_t k1 = base::load_le<std::uint64_t>(key.data() + 8);
  SipState s{k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL, k0 ^ 0x6c7967656e657261ULL,
             k1 ^ 0x7465646279746573ULL};
  std::size_t at = 0;
  for (; at + 8 <= message.size(); at += 8) s.absorb(base::load_le<std::uint64_t>(message.data() + at), 2);
  // The last block: the remaining bytes, and the message length in the top byte.
  std::uint64_t last = static_cast<std::uint64_t>(message.size()) << 56;
  for (std::size_t i = 0; at + i < message.size(); ++i) {
    last |= static_cast<std::uint64_t>(message[at + i]) << (8 * i);
  }
  s.absorb(last, 2);
  s.v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

SourceBudget::SourceBudget(SourceLimits limits, const SipKey& hash_key)
    : limits_(limits),
      hash_key_(hash_key),
      total_{static_cast<double>(limits.total), {}},
      reserved_{static_cast<double>(limits.reserved), {}} {
  sources_.fill(TokenBucket{static_cast<double>(limits.per_source), {}});
}

std::size_t SourceBudget::slot_of(const base::Endpoint& from) const {
  std::array<std::uint8_t, 24> bytes{};
  std::copy(from.address.begin(), from.address.end(), bytes.begin());
  base::store_le<std::uint16_t>(bytes.data() + 16, from.port);
  bytes[18] = static_cast<std::uint8_t>(from.family);
  base::store_le<std::uint32_t>(bytes.data() + 19, from.scope_id);
  return siphash24(hash_key_, bytes) % kSlots;
}

bool SourceBudget::allow(const base::Endpoint& from, Duration now) {
  if (trusted_ == from && reserved_.refilled(now, limits_.reserved).take()) return true;
  TokenBucket& source = sources_[slot_of(from)].refilled(now, limits_.per_source);
  total_.refilled(now, limits_.total);
  if (source.tokens < 1.0 || total_.tokens < 1.0) return false;
  return source.take() && total_.take();
}

}  // namespace squtun::protocol
