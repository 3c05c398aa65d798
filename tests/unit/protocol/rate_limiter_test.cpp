#include "protocol/rate_limiter.h"

#include <gtest/gtest.h>

namespace squtun::protocol {
namespace {

int allowed(RateLimiter& limiter, Duration now, int attempts) {
  int n = 0;
  for (int i = 0; i < attempts; ++i) n += limiter.allow(now) ? 1 : 0;
  return n;
}

TEST(RateLimiterTest, BurstThenEmpty) {
  RateLimiter limiter(4, 3);
  const Duration t0 = 100s;
  EXPECT_EQ(allowed(limiter, t0, 10), 3);
  EXPECT_FALSE(limiter.allow(t0));
}

TEST(RateLimiterTest, RefillsAtTheRate) {
  RateLimiter limiter(4, 3);  // one token every 250 ms
  const Duration t0 = 100s;
  EXPECT_EQ(allowed(limiter, t0, 3), 3);
  EXPECT_FALSE(limiter.allow(t0 + 100ms));
  EXPECT_FALSE(limiter.allow(t0 + 200ms));
  EXPECT_TRUE(limiter.allow(t0 + 250ms));
  EXPECT_FALSE(limiter.allow(t0 + 250ms));
  EXPECT_TRUE(limiter.allow(t0 + 500ms));
  // Over ten seconds, the long-run rate holds: 40 tokens, not more.
  int total = 0;
  for (int ms = 510; ms <= 10500; ms += 10) total += limiter.allow(t0 + std::chrono::milliseconds(ms)) ? 1 : 0;
  EXPECT_GE(total, 39);
  EXPECT_LE(total, 40);
}

TEST(RateLimiterTest, RefillCapsAtBurst) {
  RateLimiter limiter(4, 3);
  const Duration t0 = 5s;
  EXPECT_EQ(allowed(limiter, t0, 3), 3);
  // An hour idle still only buys a burst.
  EXPECT_EQ(allowed(limiter, t0 + 3600s, 10), 3);
}

TEST(RateLimiterTest, TimeGoingBackwardsMintsNothing) {
  RateLimiter limiter(4, 3);
  const Duration t0 = 100s;
  EXPECT_EQ(allowed(limiter, t0, 3), 3);
  // Jumping back and forth must not count the same interval twice.
  EXPECT_EQ(allowed(limiter, t0 - 50s, 5), 0);
  EXPECT_EQ(allowed(limiter, t0, 5), 0);
  EXPECT_EQ(allowed(limiter, t0 - 10s, 5), 0);
  EXPECT_EQ(allowed(limiter, t0 + 125ms, 5), 0);  // half a token
  EXPECT_EQ(allowed(limiter, t0 + 250ms, 5), 1);
  EXPECT_EQ(allowed(limiter, t0 - 1s, 5), 0);
  EXPECT_EQ(allowed(limiter, t0 + 250ms, 5), 0);
}

TEST(RateLimiterTest, FirstCallAtAnyTimeStartsFull) {
  RateLimiter late(2, 2);
  EXPECT_EQ(allowed(late, 1'000'000s, 5), 2);
  RateLimiter zero(2, 2);
  EXPECT_EQ(allowed(zero, Duration{0}, 5), 2);
  EXPECT_EQ(allowed(zero, 500ms, 5), 1);
}

TEST(RateLimiterTest, HandshakeBudget) {
  RateLimiter limiter(kHandshakesPerSecond, kHandshakesPerSecond);
  EXPECT_EQ(allowed(limiter, 1s, 1000), static_cast<int>(kHandshakesPerSecond));
  EXPECT_EQ(allowed(limiter, 2s, 1000), static_cast<int>(kHandshakesPerSecond));
}

}  // namespace
}  // namespace squtun::protocol
