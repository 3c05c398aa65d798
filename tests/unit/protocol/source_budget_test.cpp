#include "protocol/source_budget.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

namespace squtun::protocol {
namespace {

SipKey key_of(std::uint8_t seed) {
  SipKey key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(seed + i);
  return key;
}

base::Endpoint source(std::uint32_t n, std::uint16_t port = 40000) {
  return base::Endpoint::v4({203, static_cast<std::uint8_t>(n >> 16), static_cast<std::uint8_t>(n >> 8),
                             static_cast<std::uint8_t>(n)},
                            port);
}

const base::Endpoint kPeer = base::Endpoint::v4({198, 18, 0, 1}, 7778);

int allowed(SourceBudget& budget, const base::Endpoint& from, Duration now, int attempts) {
  int n = 0;
  for (int i = 0; i < attempts; ++i) n += budget.allow(from, now) ? 1 : 0;
  return n;
}

// The reference implementation's vectors: key 00..0f, message 00..(n-1).
TEST(SipHashTest, MatchesTheReferenceVectors) {
  const std::vector<std::pair<std::size_t, std::uint64_t>> vectors = {
      {0, 0x726fdb47dd0e0e31ULL},  {1, 0x74f839c593dc67fdULL},  {7, 0xab0200f58b01d137ULL},
      {8, 0x93f5f5799a932462ULL},  {15, 0xa129ca6149be45e5ULL}, {16, 0x3f2acc7f57c29bdbULL},
      {24, 0xb8ad50c6f649af94ULL}, {63, 0x958a324ceb064572ULL},
  };
  std::array<std::uint8_t, 64> message{};
  for (std::size_t i = 0; i < message.size(); ++i) message[i] = static_cast<std::uint8_t>(i);
  for (const auto& [length, expected] : vectors) {
    EXPECT_EQ(siphash24(key_of(0), std::span(message).first(length)), expected) << "length " << length;
  }
}

TEST(SourceBudgetTest, OneSourceSpendsOnlyItsShare) {
  SourceBudget budget({10, 100, 20}, key_of(1));
  EXPECT_EQ(allowed(budget, source(1), 100s, 1000), 10);
  // The common budget is left for everyone else.
  int others = 0;
  for (std::uint32_t n = 2; n < 60; ++n) others += budget.allow(source(n), 100s) ? 1 : 0;
  EXPECT_GE(others, 55);  // a few may share a slot with source 1
}

TEST(SourceBudgetTest, AllSourcesTogetherSpendAtMostTheTotal) {
  SourceBudget budget({10, 100, 20}, key_of(1));
  for (const Duration now : {100s, 101s}) {  // a second later, one second's worth again
    int n_allowed = 0;
    for (std::uint32_t n = 0; n < 100000; ++n) n_allowed += budget.allow(source(n), now) ? 1 : 0;
    EXPECT_EQ(n_allowed, 100);
  }
}

// A flood from spoofed sources, one in its slot, uses up the common budget and the
// trusted address's own slot: the trusted address still gets its reserved share, a full
// second's worth each second, and nobody else does.
TEST(SourceBudgetTest, TheTrustedAddressKeepsItsReservedShareUnderAFlood) {
  SourceBudget budget({10, 100, 20}, key_of(1));
  budget.trust(kPeer);
  std::uint32_t next = 0;
  for (int second = 0; second < 5; ++second) {
    const Duration now = 100s + std::chrono::seconds(second);
    for (int i = 0; i < 10000; ++i) budget.allow(source(next++), now);
    // A spoofer that shares the peer's slot has emptied it too.
    for (int i = 0; i < 100; ++i) budget.allow(kPeer, now);
    EXPECT_FALSE(budget.allow(source(next++), now)) << "second " << second;
    const Duration later = now + 500ms;
    for (int i = 0; i < 10000; ++i) budget.allow(source(next++), later);
    EXPECT_EQ(allowed(budget, kPeer, later, 100), 10) << "half a second of the reserved 20/s, second " << second;
  }
}

TEST(SourceBudgetTest, OnlyTheExactTrustedAddressDrawsOnTheReserve) {
  SourceBudget budget({10, 100, 20}, key_of(1));
  budget.trust(kPeer);
  base::Endpoint other_port = kPeer;
  other_port.port = 7779;
  EXPECT_EQ(allowed(budget, other_port, 100s, 1000), 10);
  // The reserve is untouched, and after it the peer still has its ordinary share.
  EXPECT_EQ(allowed(budget, kPeer, 100s, 1000), budget.slot_of(kPeer) == budget.slot_of(other_port) ? 20 : 30);
}

TEST(SourceBudgetTest, TrustMovesWithTheAddress) {
  SourceBudget budget({0, 0, 5}, key_of(1));
  budget.trust(kPeer);
  EXPECT_TRUE(budget.allow(kPeer, 100s));
  budget.trust(source(7));
  EXPECT_FALSE(budget.allow(kPeer, 100s));
  EXPECT_TRUE(budget.allow(source(7), 100s));
}

// Without the key an attacker cannot tell which addresses share a slot: another key lays
// the same addresses out differently, and many addresses spread evenly.
TEST(SourceBudgetTest, SlotsDependOnTheKeyAndSpreadEvenly) {
  SourceBudget one({1, 1, 1}, key_of(1));
  SourceBudget two({1, 1, 1}, key_of(2));
  std::vector<int> load(SourceBudget::kSlots, 0);
  int same = 0;
  constexpr std::uint32_t kSources = 16 * SourceBudget::kSlots;
  for (std::uint32_t n = 0; n < kSources; ++n) {
    const std::size_t slot = one.slot_of(source(n, static_cast<std::uint16_t>(n)));
    ASSERT_LT(slot, SourceBudget::kSlots);
    ++load[slot];
    same += slot == two.slot_of(source(n, static_cast<std::uint16_t>(n))) ? 1 : 0;
  }
  EXPECT_LT(same, 64);  // 16 expected by chance
  EXPECT_LT(*std::ranges::max_element(load), 48);  // 16 on average
  EXPECT_GT(*std::ranges::min_element(load), 0);
}

TEST(SourceBudgetTest, ASourceRefillsAtItsRate) {
  SourceBudget budget({4, 100, 0}, key_of(1));
  const Duration t0 = 100s;
  EXPECT_EQ(allowed(budget, source(1), t0, 10), 4);
  EXPECT_FALSE(budget.allow(source(1), t0 + 200ms));
  EXPECT_TRUE(budget.allow(source(1), t0 + 250ms));
  EXPECT_FALSE(budget.allow(source(1), t0 + 250ms));
}

}  // namespace
}  // namespace squtun::protocol
