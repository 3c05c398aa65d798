// The replay window against a model (the set of accepted counters and the highest): the
// input is a sequence of counters, each near the interesting places (the highest, the
// window's edge, word boundaries, exhaustion) or anywhere.

#include <algorithm>
#include <cstdint>
#include <set>

#include "fuzz_support.h"
#include "protocol/replay_window.h"

namespace {

using squtun::fuzz::require;
using squtun::protocol::kRejectAfterMessages;
using squtun::protocol::ReplayWindow;

constexpr std::uint64_t W = ReplayWindow::kWindowSize;

struct Model {
  std::set<std::uint64_t> seen;
  std::uint64_t highest = 0;
  bool any = false;

  bool check(std::uint64_t c) const {
    if (c >= kRejectAfterMessages) return false;
    if (!any || c > highest) return true;
    return highest - c < W && !seen.count(c);
  }
  bool accept(std::uint64_t c) {
    if (!check(c)) return false;
    seen.insert(c);
    if (!any || c > highest) highest = c;
    any = true;
    if (highest >= W) seen.erase(seen.begin(), seen.lower_bound(highest - W));
    return true;
  }
};

std::uint64_t sub(std::uint64_t a, std::uint64_t b) { return a > b ? a - b : 0; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  squtun::fuzz::Reader in(data, size);
  ReplayWindow w;
  Model m;
  // Start near zero or near exhaustion.
  const std::uint64_t base = (in.u8() & 1) ? kRejectAfterMessages - 3 * W : 0;
  for (int step = 0; step < 4096 && !in.done(); ++step) {
    const std::uint8_t op = in.u8();
    const std::uint64_t h = m.any ? m.highest : base;
    std::uint64_t c = 0;
    switch (op & 7) {
      case 0: c = h + in.u8(); break;
      case 1: c = sub(h, in.u16()); break;
      case 2: c = sub(h, W - 2 + (in.u8() & 3)); break;  // the window's edge
      case 3: c = in.u64(); break;
      case 4: c = h + std::uint64_t{in.u8()} * ReplayWindow::kWordBits; break;
      case 5: c = kRejectAfterMessages - 2 + (in.u8() & 3); break;
      case 6: c = h + std::uint64_t{in.u16()} * 7; break;
      default: c = base + in.u16(); break;
    }
    const bool expected = m.check(c);
    require(w.check(c) == expected);
    if (op & 0x80) {
      require(w.check(c) == expected);  // check() alone changes nothing
    } else {
      require(w.accept(c) == expected);
      require(m.accept(c) == expected);
      require(!w.check(c));
      require(w.highest() == (m.any ? m.highest : 0));
    }
  }
  return 0;
}
