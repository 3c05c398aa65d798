#pragma once

#include "protocol/constants.h"

namespace squtun::protocol {

// A token bucket's state without its rate, so a table of many buckets sharing one rate
// costs 16 bytes a bucket. It holds at most one second's worth of tokens. Pure: time comes
// in as an argument.
struct TokenBucket {
  double tokens = 0;
  Duration last{};

  // Adds what the time since the last refill earned at `per_second`; time going backwards
  // earns nothing, so no interval is counted twice.
  TokenBucket& refilled(Duration now, double per_second);
  bool take();
};

}  // namespace squtun::protocol
