#include "daemon/ordered_pipeline.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace squtun::daemon {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kSlots = 4;
constexpr std::size_t kMaxItems = 64;

// Waits for pred() with a deadline; false if it never held.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// Batches whose items record which batch processed them, and a log of finished batches.
struct Recorder {
  struct Batch {
    std::uint64_t id = 0;
    std::size_t items = 0;
    std::array<std::uint64_t, kMaxItems> processed{};
  };
  std::array<Batch, kSlots> slots;
  std::mutex mutex;
  std::vector<std::uint64_t> finished;
  std::size_t incomplete = 0;
  std::atomic<std::size_t> finished_count{0};

  void work(std::size_t slot, std::size_t first, std::size_t end) {
    for (std::size_t i = first; i < end; ++i) {
      // Uneven work per item, so that later chunks often finish before earlier ones.
      volatile std::uint64_t spin = 0;
      for (std::uint64_t k = 0; k < (slots[slot].id * 7 + i) % 13 * 200; ++k) spin = spin + k;
      slots[slot].processed[i] = slots[slot].id + 1;
    }
  }
  void finish(std::size_t slot) {
    const Batch& b = slots[slot];
    std::lock_guard lock(mutex);
    for (std::size_t i = 0; i < b.items; ++i) incomplete += b.processed[i] != b.id + 1;
    finished.push_back(b.id);
    ++finished_count;
  }
};

TEST(OrderedPipelineTest, BatchesFinishInPublicationOrderWithEveryItemProcessedOnce) {
  Recorder r;
  OrderedPipeline pipeline(
      kSlots, 4, [&](auto, auto slot, auto first, auto end) { r.work(slot, first, end); },
      [&](auto slot) { r.finish(slot); }, [](auto) { FAIL() << "no failure expected"; });
  constexpr std::uint64_t kBatches = 3000;
  for (std::uint64_t id = 0; id < kBatches; ++id) {
    const auto slot = pipeline.acquire();
    ASSERT_TRUE(slot);
    r.slots[*slot].id = id;
    r.slots[*slot].items = (id * 37) % (kMaxItems + 1);  // 0 (an empty batch) to 64
    pipeline.publish(*slot, r.slots[*slot].items);
  }
  ASSERT_TRUE(eventually([&] { return r.finished_count == kBatches; }));
  std::lock_guard lock(r.mutex);
  EXPECT_EQ(r.incomplete, 0u);
  for (std::uint64_t id = 0; id < kBatches; ++id) ASSERT_EQ(r.finished[id], id) << "out of order at " << id;
}

TEST(OrderedPipelineTest, WorkersShareOneBatch) {
  // Each chunk waits until a second chunk is being worked on at the same time: a pipeline
  // that ran the chunks of a batch one after another would never get there.
  std::mutex mutex;
  std::condition_variable cv;
  std::size_t running = 0;
  std::atomic<bool> overlapped{false}, finished{false};
  std::atomic<std::size_t> max_worker{0};
  OrderedPipeline pipeline(
      kSlots, 2,
      [&](auto worker, auto, auto, auto) {
        max_worker = std::max<std::size_t>(max_worker, worker);
        std::unique_lock lock(mutex);
        ++running;
        cv.notify_all();
        if (cv.wait_for(lock, 5s, [&] { return running >= 2; })) overlapped = true;
      },
      [&](auto) { finished = true; }, [](auto) {});
  pipeline.publish(*pipeline.acquire(), kMaxItems);
  ASSERT_TRUE(eventually([&] { return finished.load(); }));
  EXPECT_TRUE(overlapped);
  EXPECT_LT(max_worker, 2u);
}

TEST(OrderedPipelineTest, WithoutWorkersPublishWorksAndFinishesOnTheCallersThread) {
  std::vector<std::thread::id> threads;
  std::vector<std::size_t> finished;
  OrderedPipeline pipeline(
      1, 0, [&](auto worker, auto, auto first, auto end) {
        EXPECT_EQ(worker, 0u);
        EXPECT_EQ(first, 0u);
        EXPECT_EQ(end, 5u);
        threads.push_back(std::this_thread::get_id());
      },
      [&](auto slot) {
        threads.push_back(std::this_thread::get_id());
        finished.push_back(slot);
      },
      [](auto) {});
  EXPECT_EQ(pipeline.workers(), 0u);
  pipeline.publish(*pipeline.acquire(), 5);
  ASSERT_EQ(threads.size(), 2u);
  EXPECT_EQ(threads[0], std::this_thread::get_id());
  EXPECT_EQ(threads[1], std::this_thread::get_id());
  EXPECT_EQ(finished, std::vector<std::size_t>{0});
}

TEST(OrderedPipelineTest, AcquireWaitsWhileEverySlotIsInFlight) {
  std::atomic<bool> release{false};
  std::atomic<std::size_t> finished{0};
  OrderedPipeline pipeline(
      2, 1, [](auto, auto, auto, auto) {},
      [&](auto) {
        eventually([&] { return release.load(); });
        ++finished;
      },
      [](auto) {});
  pipeline.publish(*pipeline.acquire(), 1);
  pipeline.publish(*pipeline.acquire(), 1);
  std::atomic<bool> acquired{false};
  std::thread producer([&] {
    if (pipeline.acquire()) acquired = true;
  });
  // Both slots are held by the finisher: the third acquire must still be waiting.
  EXPECT_FALSE(eventually([&] { return acquired.load(); }, 200ms));
  release = true;
  EXPECT_TRUE(eventually([&] { return acquired.load(); }));
  producer.join();
  EXPECT_GE(finished, 1u);
}

TEST(OrderedPipelineTest, AFailingWorkerStopsThePipelineAndIsReported) {
  std::atomic<bool> reported{false};
  std::atomic<std::size_t> finished{0};
  OrderedPipeline pipeline(
      kSlots, 2, [](auto, auto, auto, auto) { throw std::runtime_error("cipher failed"); },
      [&](auto) { ++finished; },
      [&](std::exception_ptr error) {
        try {
          std::rethrow_exception(error);
        } catch (const std::runtime_error& e) {
          reported = std::string(e.what()) == "cipher failed";
        }
      });
  pipeline.publish(*pipeline.acquire(), 8);
  ASSERT_TRUE(eventually([&] { return reported.load(); }));
  EXPECT_FALSE(pipeline.acquire());
  EXPECT_EQ(finished, 0u);
}

TEST(OrderedPipelineTest, StopWakesAWaitingProducer) {
  std::atomic<bool> release{false};
  OrderedPipeline pipeline(
      1, 1, [](auto, auto, auto, auto) {}, [&](auto) { eventually([&] { return release.load(); }); }, [](auto) {});
  pipeline.publish(*pipeline.acquire(), 1);
  std::atomic<bool> returned{false}, got_slot{false};
  std::thread producer([&] {
    got_slot = pipeline.acquire().has_value();
    returned = true;
  });
  pipeline.stop();
  EXPECT_TRUE(eventually([&] { return returned.load(); }));
  EXPECT_FALSE(got_slot);
  release = true;
  producer.join();
}

}  // namespace
}  // namespace squtun::daemon
