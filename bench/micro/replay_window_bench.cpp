// ReplayWindow::accept, one call per received data packet: counters in order (one sender
// thread, no loss), and reordered the way batched, multi-threaded delivery reorders them.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "protocol/replay_window.h"

namespace squtun::protocol {
namespace {

void BM_ReplayAcceptInOrder(benchmark::State& state) {
  ReplayWindow window;
  std::uint64_t counter = 1;
  std::int64_t refused = 0;
  for (auto _ : state) {
    if (!window.accept(counter++)) ++refused;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["refused"] = static_cast<double>(refused);
  if (refused != 0) state.SkipWithError("in-order counters were refused");
}

// Counters arrive in blocks of range(0) whose order is shuffled (two batches of 64 overtaking
// each other, say), and one packet in 64 arrives range(1) packets late. Every counter is
// still new and inside the window, so every accept must succeed; the pattern is precomputed
// and repeated at ever higher counters.
void BM_ReplayAcceptReordered(benchmark::State& state) {
  const auto block = static_cast<std::uint64_t>(state.range(0));
  const auto late_by = static_cast<std::uint64_t>(state.range(1));
  constexpr std::uint64_t kPattern = 1 << 16;
  std::vector<std::uint64_t> offsets;
  offsets.reserve(kPattern);
  std::mt19937_64 rng(6479);
  std::vector<std::uint64_t> held;  // late packets, delivered late_by positions later
  std::vector<std::uint64_t> order(block);
  for (std::uint64_t base = 0; base < kPattern; base += block) {
    for (std::uint64_t i = 0; i < block; ++i) order[i] = base + i;
    std::shuffle(order.begin(), order.end(), rng);
    for (const std::uint64_t c : order) {
      if (late_by > 0 && c % 64 == 17) {
        held.push_back(c);
        continue;
      }
      offsets.push_back(c);
      if (!held.empty() && c >= held.front() + late_by) {
        offsets.push_back(held.front());
        held.erase(held.begin());
      }
    }
  }
  // Whatever is still held goes out at the end of the pattern (still inside the window).
  offsets.insert(offsets.end(), held.begin(), held.end());

  ReplayWindow window;
  std::uint64_t round_base = 1;
  std::size_t i = 0;
  std::int64_t refused = 0;
  for (auto _ : state) {
    if (!window.accept(round_base + offsets[i])) ++refused;
    if (++i == offsets.size()) {
      i = 0;
      round_base += kPattern;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["refused"] = static_cast<double>(refused);
  if (refused != 0) state.SkipWithError("new counters inside the window were refused");
}

// A replayed counter (already seen): the check that turns a replay away.
void BM_ReplayRejectDuplicate(benchmark::State& state) {
  ReplayWindow window;
  for (std::uint64_t c = 1; c <= 4096; ++c) window.accept(c);
  std::uint64_t c = 0;
  std::int64_t accepted = 0;
  for (auto _ : state) {
    if (window.accept(1 + (c++ & 4095))) ++accepted;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  if (accepted != 0) state.SkipWithError("a replayed counter was accepted");
}

BENCHMARK(BM_ReplayAcceptInOrder);
BENCHMARK(BM_ReplayAcceptReordered)->ArgNames({"block", "late_by"})->Args({64, 0})->Args({128, 0})->Args({64, 1000});
BENCHMARK(BM_ReplayRejectDuplicate);

}  // namespace
}  // namespace squtun::protocol
