#pragma once

#include "protocol/constants.h"

namespace squtun::protocol {

// A token bucket's state without its rate, so a table of many buckets sharing one rate
// costs 16 bytes a bucket. A bucket starts full. Pure: time comes in as an argument.
struct TokenBucket {
  double tokens = 0;
  Duration last{};

  // Adds what the time since the last refill earned, at most up to `burst`; time going
  // backwards earns nothing, so no interval is counted twice.
  void refill(Duration now, double per_second, double burst);
  bool take();
};

// One token bucket: at most `per_second` events a second on average, in bursts of at most
// `burst`.
class RateLimiter {
 public:
  RateLimiter(unsigned per_second, unsigned burst);
  bool allow(Duration now);

  // For a caller that needs this bucket and another one to agree before it takes from
  // either.
  TokenBucket& refilled(Duration now);

 private:
  const double per_second_;
  const double burst_;
  TokenBucket bucket_;
};

}  // namespace squtun::protocol
