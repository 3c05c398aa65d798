#include "protocol/rate_limiter.h"

#include <algorithm>

namespace squtun::protocol {

RateLimiter::RateLimiter(unsigned per_second, unsigned burst)
    : per_second_(per_second), burst_(burst), tokens_(burst) {}

bool RateLimiter::allow(Duration now) {
  if (started_ && now > last_) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * per_second_);
  }
  if (!started_ || now > last_) last_ = now;
  started_ = true;
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

}  // namespace squtun::protocol
