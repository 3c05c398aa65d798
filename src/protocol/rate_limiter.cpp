#include "protocol/rate_limiter.h"

#include <algorithm>

namespace squtun::protocol {

TokenBucket& TokenBucket::refilled(Duration now, double per_second) {
  if (now <= last) return *this;
  const double elapsed = std::chrono::duration<double>(now - last).count();
  tokens = std::min(per_second, tokens + elapsed * per_second);
  last = now;
  return *this;
}

bool TokenBucket::take() {
  if (tokens < 1.0) return false;
  tokens -= 1.0;
  return true;
}

}  // namespace squtun::protocol
