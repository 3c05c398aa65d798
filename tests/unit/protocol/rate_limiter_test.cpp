#include "protocol/rate_limiter.h"

#include <gtest/gtest.h>

namespace squtun::protocol {
namespace {

// A bucket of 4 tokens a second that starts full, as SourceBudget's do.
struct Bucket {
  TokenBucket state{4, {}};
  bool allow(Duration now) { return state.refilled(now, 4).take(); }
  int allowed(Duration now, int attempts) {
    int n = 0;
    for (int i = 0; i < attempts; ++i) n += allow(now) ? 1 : 0;
    return n;
  }
};

TEST(TokenBucketTest, BurstThenEmpty) {
  Bucket b;
  const Duration t0 = 100s;
  EXPECT_EQ(b.allowed(t0, 10), 4);
  EXPECT_FALSE(b.allow(t0));
}

TEST(TokenBucketTest, RefillsAtTheRate) {
  Bucket b;  // one token every 250 ms
  const Duration t0 = 100s;
  EXPECT_EQ(b.allowed(t0, 4), 4);
  EXPECT_FALSE(b.allow(t0 + 100ms));
  EXPECT_FALSE(b.allow(t0 + 200ms));
  EXPECT_TRUE(b.allow(t0 + 250ms));
  EXPECT_FALSE(b.allow(t0 + 250ms));
  EXPECT_TRUE(b.allow(t0 + 500ms));
  // Over ten seconds, the long-run rate holds: 40 tokens, not more.
  int total = 0;
  for (int ms = 510; ms <= 10500; ms += 10) total += b.allow(t0 + std::chrono::milliseconds(ms)) ? 1 : 0;
  EXPECT_GE(total, 39);
  EXPECT_LE(total, 40);
}

TEST(TokenBucketTest, RefillCapsAtOneSecondsWorth) {
  Bucket b;
  const Duration t0 = 5s;
  EXPECT_EQ(b.allowed(t0, 4), 4);
  // An hour idle still only buys a burst.
  EXPECT_EQ(b.allowed(t0 + 3600s, 10), 4);
}

TEST(TokenBucketTest, TimeGoingBackwardsMintsNothing) {
  Bucket b;
  const Duration t0 = 100s;
  EXPECT_EQ(b.allowed(t0, 4), 4);
  // Jumping back and forth must not count the same interval twice.
  EXPECT_EQ(b.allowed(t0 - 50s, 5), 0);
  EXPECT_EQ(b.allowed(t0, 5), 0);
  EXPECT_EQ(b.allowed(t0 - 10s, 5), 0);
  EXPECT_EQ(b.allowed(t0 + 125ms, 5), 0);  // half a token
  EXPECT_EQ(b.allowed(t0 + 250ms, 5), 1);
  EXPECT_EQ(b.allowed(t0 - 1s, 5), 0);
  EXPECT_EQ(b.allowed(t0 + 250ms, 5), 0);
}

TEST(TokenBucketTest, AnEmptyBucketFillsFromTimeZero) {
  TokenBucket late;
  EXPECT_TRUE(late.refilled(1'000'000s, 2).take());
  EXPECT_TRUE(late.take());
  EXPECT_FALSE(late.take());
  TokenBucket zero;
  EXPECT_FALSE(zero.refilled(Duration{0}, 2).take());
  EXPECT_TRUE(zero.refilled(500ms, 2).take());
  EXPECT_FALSE(zero.take());
}

}  // namespace
}  // namespace squtun::protocol
