#pragma once

#include <array>
#include <cstdint>

#include "protocol/constants.h"

namespace squtun::protocol {

// Sliding-window replay protection for data counters (RFC 6479): a ring of bitmap words,
// so advancing the window clears whole words instead of shifting bits. Counters up to
// kWindowSize behind the highest one seen are accepted once each, which leaves room for
// the reordering that batched, multi-threaded delivery produces.
class ReplayWindow {
 public:
  static constexpr unsigned kWordBits = 64;
  static constexpr unsigned kWords = 256;  // a power of two
  static constexpr std::uint64_t kWindowSize = (kWords - 1) * kWordBits;  // 16320

  // True if counter has not been seen, lies inside the window and below the limit.
  bool check(std::uint64_t counter) const;
  // Marks counter as seen if check() allows it; returns whether it did.
  bool accept(std::uint64_t counter);
  // Whether accepting counter would raise the highest one seen, or be the first.
  bool advanced_by(std::uint64_t counter) const { return !any_ || counter > highest_; }
  // Highest counter accepted so far (0 if none).
  std::uint64_t highest() const { return highest_; }

 private:
  std::array<std::uint64_t, kWords> bitmap_{};
  std::uint64_t highest_ = 0;
  bool any_ = false;
};

}  // namespace squtun::protocol
