#include "protocol/replay_window.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <set>

namespace squtun::protocol {
namespace {

constexpr std::uint64_t W = ReplayWindow::kWindowSize;
constexpr std::uint64_t kWordBits = ReplayWindow::kWordBits;

TEST(ReplayWindowTest, WindowIsAtLeast8192) {
  EXPECT_GE(W, 8192u);
  EXPECT_EQ(W, (ReplayWindow::kWords - 1) * kWordBits);
}

TEST(ReplayWindowTest, FirstCounterZeroAccepted) {
  ReplayWindow w;
  EXPECT_TRUE(w.check(0));
  EXPECT_TRUE(w.accept(0));
  EXPECT_EQ(w.highest(), 0u);
  EXPECT_FALSE(w.check(0));
  EXPECT_FALSE(w.accept(0));
  EXPECT_TRUE(w.accept(1));
  EXPECT_EQ(w.highest(), 1u);
}

TEST(ReplayWindowTest, DuplicatesRejected) {
  ReplayWindow w;
  for (std::uint64_t c = 0; c < 1000; ++c) ASSERT_TRUE(w.accept(c)) << c;
  for (std::uint64_t c = 0; c < 1000; ++c) EXPECT_FALSE(w.accept(c)) << c;
  EXPECT_EQ(w.highest(), 999u);
}

TEST(ReplayWindowTest, FirstCounterNeedNotBeZero) {
  ReplayWindow w;
  EXPECT_TRUE(w.accept(500));
  EXPECT_TRUE(w.accept(0));  // within the window below the first one
  EXPECT_FALSE(w.accept(0));
  EXPECT_TRUE(w.accept(499));
  EXPECT_FALSE(w.accept(500));
}

TEST(ReplayWindowTest, ReorderingWithinWindowAcceptedOnce) {
  ReplayWindow w;
  ASSERT_TRUE(w.accept(10000));
  // Every counter below, in reverse order, once.
  for (std::uint64_t c = 10000; c-- > 0;) ASSERT_TRUE(w.accept(c)) << c;
  for (std::uint64_t c = 0; c <= 10000; ++c) ASSERT_FALSE(w.accept(c)) << c;
  EXPECT_EQ(w.highest(), 10000u);
  // Interleaved arrival around word boundaries.
  ReplayWindow v;
  for (std::uint64_t c : {64u, 63u, 65u, 0u, 127u, 128u, 1u, 62u}) EXPECT_TRUE(v.accept(c)) << c;
  for (std::uint64_t c : {64u, 63u, 65u, 0u, 127u, 128u, 1u, 62u}) EXPECT_FALSE(v.accept(c)) << c;
  EXPECT_TRUE(v.accept(2));
}

TEST(ReplayWindowTest, ExactWindowBoundary) {
  for (std::uint64_t highest : {W + 5, 3 * W + 17, std::uint64_t{1} << 40, W, W - 1 + 64 * 3}) {
    ReplayWindow w;
    ASSERT_TRUE(w.accept(highest));
    EXPECT_TRUE(w.check(highest - W + 1)) << highest;
    if (highest >= W) {
      EXPECT_FALSE(w.check(highest - W)) << highest;
      EXPECT_FALSE(w.accept(highest - W)) << highest;
    }
    EXPECT_TRUE(w.accept(highest - W + 1)) << highest;
    EXPECT_FALSE(w.accept(highest - W + 1)) << highest;
    // One past the window on the other side is a new highest.
    EXPECT_TRUE(w.accept(highest + 1));
    // The old boundary moved up by one.
    EXPECT_FALSE(w.check(highest - W + 1)) << highest;
    EXPECT_TRUE(w.check(highest - W + 2)) << highest;
  }
}

TEST(ReplayWindowTest, WholeWindowCanBeFilledOutOfOrder) {
  ReplayWindow w;
  const std::uint64_t top = 5 * W;
  ASSERT_TRUE(w.accept(top));
  for (std::uint64_t c = top - W + 1; c < top; ++c) ASSERT_TRUE(w.accept(c)) << c;
  for (std::uint64_t c = top - W - 100; c <= top; ++c) ASSERT_FALSE(w.check(c)) << c;
}

TEST(ReplayWindowTest, FarFutureJumpClearsBitmap) {
  ReplayWindow w;
  for (std::uint64_t c = 0; c < 2 * W; ++c) ASSERT_TRUE(w.accept(c));
  const std::uint64_t jump = 2 * W - 1 + 1'000'000;
  ASSERT_TRUE(w.accept(jump));
  EXPECT_EQ(w.highest(), jump);
  // Everything before the jump is far behind: rejected.
  for (std::uint64_t c = 0; c < 2 * W; ++c) ASSERT_FALSE(w.check(c)) << c;
  // Counters just below the new highest were never seen: accepted once, although their
  // ring slots held bits of old counters.
  for (std::uint64_t c = jump - W + 1; c < jump; ++c) ASSERT_TRUE(w.accept(c)) << c;
  for (std::uint64_t c = jump - W + 1; c <= jump; ++c) ASSERT_FALSE(w.check(c)) << c;
}

TEST(ReplayWindowTest, JumpOfExactlyOneWord) {
  ReplayWindow w;
  for (std::uint64_t c = 0; c < 3 * W; ++c) ASSERT_TRUE(w.accept(c));
  const std::uint64_t h = w.highest();
  ASSERT_TRUE(w.accept(h + kWordBits));
  // The slot that used to hold counters h+1 .. around h+64 wrapped from counters a whole
  // ring earlier, which were all seen: the clearing must make them fresh.
  for (std::uint64_t c = h + 1; c < h + kWordBits; ++c) EXPECT_TRUE(w.check(c)) << c;
  // Still-in-window old ones remain rejected.
  EXPECT_FALSE(w.check(h));
  EXPECT_FALSE(w.check(h + kWordBits - W + 1));
  EXPECT_FALSE(w.check(h + kWordBits - W));
}

TEST(ReplayWindowTest, JumpsOfManyWords) {
  for (std::uint64_t words : {2u, 17u, 254u, 255u, 256u, 257u, 1000u}) {
    ReplayWindow w;
    for (std::uint64_t c = 0; c < 2 * W + 100; ++c) ASSERT_TRUE(w.accept(c));
    const std::uint64_t h = w.highest();
    const std::uint64_t n = h + words * kWordBits;
    ASSERT_TRUE(w.accept(n)) << words;
    std::uint64_t fresh = 0, stale = 0;
    for (std::uint64_t c = n - W + 1; c < n; ++c) {
      // Exactly the counters in (h, n) are unseen; those <= h in window were all seen.
      if (c > h) {
        fresh += w.check(c) ? 1 : 0;
      } else {
        stale += w.check(c) ? 0 : 1;
      }
    }
    const std::uint64_t in_window_new = std::min<std::uint64_t>(n - h - 1, W - 1);
    EXPECT_EQ(fresh, in_window_new) << words;
    EXPECT_EQ(stale, (W - 1) - in_window_new) << words;
  }
}

TEST(ReplayWindowTest, CounterExhaustion) {
  ReplayWindow w;
  EXPECT_FALSE(w.check(kRejectAfterMessages));
  EXPECT_FALSE(w.accept(kRejectAfterMessages));
  EXPECT_FALSE(w.accept(kRejectAfterMessages + 1));
  EXPECT_FALSE(w.accept(~0ULL));
  EXPECT_TRUE(w.accept(kRejectAfterMessages - 1));
  EXPECT_EQ(w.highest(), kRejectAfterMessages - 1);
  EXPECT_FALSE(w.accept(kRejectAfterMessages - 1));
  EXPECT_FALSE(w.accept(kRejectAfterMessages));
  EXPECT_TRUE(w.accept(kRejectAfterMessages - 2));
  EXPECT_TRUE(w.accept(kRejectAfterMessages - W + 1));
  EXPECT_FALSE(w.accept(kRejectAfterMessages - W - 1));
}

TEST(ReplayWindowTest, CheckDoesNotMark) {
  ReplayWindow w;
  EXPECT_TRUE(w.check(0));
  EXPECT_TRUE(w.check(0));
  EXPECT_TRUE(w.check(100000));
  EXPECT_EQ(w.highest(), 0u);
  EXPECT_TRUE(w.accept(5));
  EXPECT_TRUE(w.check(100000));
  EXPECT_EQ(w.highest(), 5u);
  EXPECT_TRUE(w.check(4));
  EXPECT_TRUE(w.check(4));
  EXPECT_TRUE(w.accept(4));
  EXPECT_FALSE(w.check(4));
  // check() of a far-future counter does not slide the window.
  EXPECT_TRUE(w.check(10 * W));
  EXPECT_TRUE(w.accept(3));
}

// A simple model: the set of accepted counters and the highest.
struct Model {
  std::set<std::uint64_t> seen;
  std::uint64_t highest = 0;
  bool any = false;
  bool accept(std::uint64_t c) {
    if (c >= kRejectAfterMessages) return false;
    if (any && c <= highest && (highest - c >= W || seen.count(c))) return false;
    seen.insert(c);
    if (!any || c > highest) highest = c;
    any = true;
    // Forget what the window has passed (keeps the model small).
    if (highest >= W) seen.erase(seen.begin(), seen.lower_bound(highest - W));
    return true;
  }
};

TEST(ReplayWindowTest, RandomizedAgainstModel) {
  std::mt19937_64 rng(0x5eed);
  for (int round = 0; round < 20; ++round) {
    ReplayWindow w;
    Model m;
    std::uint64_t base = round % 2 ? kRejectAfterMessages - 4 * W : 0;
    for (int i = 0; i < 20000; ++i) {
      std::uint64_t c = 0;
      const std::uint64_t h = m.any ? m.highest : base;
      switch (rng() % 8) {
        case 0: c = h + 1; break;
        case 1: c = h + rng() % 200; break;
        case 2: c = h - std::min<std::uint64_t>(h, rng() % (W + 200)); break;
        case 3: c = h + rng() % (3 * W); break;  // jumps of many words
        case 4: c = h - std::min<std::uint64_t>(h, W - 1 + rng() % 3); break;  // the boundary
        case 5: c = h - std::min<std::uint64_t>(h, rng() % 70); break;
        case 6: c = h + kWordBits * (rng() % 300); break;
        default: c = base + rng() % (8 * W); break;
      }
      const bool checked = w.check(c);
      const bool expected = m.accept(c);
      ASSERT_EQ(checked, expected) << "round " << round << " step " << i << " counter " << c;
      ASSERT_EQ(w.accept(c), expected) << "round " << round << " step " << i << " counter " << c;
      ASSERT_EQ(w.highest(), m.any ? m.highest : 0) << i;
    }
  }
}

}  // namespace
}  // namespace squtun::protocol
