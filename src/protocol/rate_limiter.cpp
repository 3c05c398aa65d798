#include "protocol/rate_limiter.h"

#include <algorithm>

namespace squtun::protocol {

void TokenBucket::refill(Duration now, double per_second, double burst) {
  if (now <= last) return;
  const double elapsed = std::chrono::duration<double>(now - last).count();
  tokens = std::min(burst, tokens + elapsed * per_second);
  last = now;
}

bool TokenBucket::take() {
  if (tokens < 1.0) return false;
  tokens -= 1.0;
  return true;
}

RateLimiter::RateLimiter(unsigned per_second, unsigned burst)
    : per_second_(per_second), burst_(burst), bucket_{static_cast<double>(burst), {}} {}

TokenBucket& RateLimiter::refilled(Duration now) {
  bucket_.refill(now, per_second_, burst_);
  return bucket_;
}

bool RateLimiter::allow(Duration now) { return refilled(now).take(); }

}  // namespace squtun::protocol
