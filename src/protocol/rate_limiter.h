#pragma once

#include "protocol/constants.h"

namespace squtun::protocol {

// A token bucket: at most `per_second` events a second on average, in bursts of at most
// `burst`. Pure: time comes in as an argument.
class RateLimiter {
 public:
  RateLimiter(unsigned per_second, unsigned burst);
  bool allow(Duration now);

 private:
  const double per_second_;
  const double burst_;
  double tokens_;
  Duration last_{};
  bool started_ = false;
};

}  // namespace squtun::protocol
