#include "base/guarded.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace squtun::base {
namespace {

TEST(GuardedTest, WithReturnsWhatTheFunctionReturns) {
  Guarded<std::vector<int>> numbers(3, 7);
  EXPECT_EQ(numbers.with([](std::vector<int>& v) { return v.size(); }), 3u);
  numbers.with([](std::vector<int>& v) { v.push_back(9); });
  const auto& read_only = numbers;
  EXPECT_EQ(read_only.with([](const std::vector<int>& v) { return v.back(); }), 9);
}

TEST(GuardedTest, CallsFromManyThreadsAreSerialised) {
  Guarded<long> total(0);
  constexpr int kThreads = 4, kAdds = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      // A read and a separate write: without the lock, concurrent adds would be lost.
      for (int i = 0; i < kAdds; ++i) total.with([](long& v) { const long seen = v; v = seen + 1; });
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(total.with([](long v) { return v; }), long{kThreads} * kAdds);
}

}  // namespace
}  // namespace squtun::base
