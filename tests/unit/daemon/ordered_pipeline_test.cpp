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
      "test", kSlots, 3, [&](auto, auto slot, auto first, auto end) { r.work(slot, first, end); },
      [&](auto slot) { r.finish(slot); }, [](auto) { FAIL() << "no failure expected"; });
  constexpr std::uint64_t kBatches = 3000;
  for (std::uint64_t id = 0; id < kBatches; ++id) {
    const auto slot = pipeline.acquire();
    ASSERT_TRUE(slot);
    r.slots[*slot].id = id;
    r.slots[*slot].items = (id * 37) % (kMaxItems + 1);  // 0 (an empty batch) to 64
    // Every third batch is the publishing thread's alone, between batches the workers share.
    pipeline.publish(*slot, r.slots[*slot].items,
                     id % 3 == 0 ? OrderedPipeline::Sharing::CallerOnly
                                 : OrderedPipeline::Sharing::WithWorkers);
  }
  ASSERT_TRUE(eventually([&] { return r.finished_count == kBatches; }));
  std::lock_guard lock(r.mutex);
  EXPECT_EQ(r.incomplete, 0u);
  for (std::uint64_t id = 0; id < kBatches; ++id)
    ASSERT_EQ(r.finished[id], id) << "out of order at " << id;
}

TEST(OrderedPipelineTest, WorkersShareOneBatch) {
  // Each chunk waits until a second chunk is being worked on at the same time: a pipeline
  // that ran the chunks of a batch one after another would never get there.
  std::mutex mutex;
  std::condition_variable cv;
  std::size_t running = 0;
  std::atomic<bool> overlapped{false}, finished{false};
  OrderedPipeline pipeline(
      "test", kSlots, 1,
      [&](auto, auto, auto, auto) {
        std::unique_lock lock(mutex);
        ++running;
        cv.notify_all();
        if (cv.wait_for(lock, 5s, [&] { return running >= 2; })) overlapped = true;
      },
      [&](auto) { finished = true; }, [](auto) {});
  pipeline.publish(*pipeline.acquire(), kMaxItems);
  pipeline.help();
  ASSERT_TRUE(eventually([&] { return finished.load(); }));
  EXPECT_TRUE(overlapped);
}

TEST(OrderedPipelineTest, ACallerOnlyBatchIsWorkedAndFinishedByThePublishingThreadAlone) {
  std::atomic<std::size_t> items_on_caller{0}, items_elsewhere{0}, finishes{0};
  const auto caller = std::this_thread::get_id();
  OrderedPipeline pipeline(
      "test", kSlots, 2,
      [&](auto worker, auto, auto first, auto end) {
        const bool on_caller = std::this_thread::get_id() == caller && worker == 2;
        (on_caller ? items_on_caller : items_elsewhere) += end - first;
      },
      [&](auto) { ++finishes; }, [](auto) {});
  EXPECT_TRUE(pipeline.idle());
  for (std::size_t batch = 1; batch <= 50; ++batch) {
    pipeline.publish(*pipeline.acquire(), kMaxItems, OrderedPipeline::Sharing::CallerOnly);
    // Nothing older was in flight, so the batch is finished before publish returns.
    ASSERT_EQ(finishes, batch);
    EXPECT_TRUE(pipeline.idle());
  }
  EXPECT_EQ(items_on_caller, 50 * kMaxItems);
  EXPECT_EQ(items_elsewhere, 0u);
}

TEST(OrderedPipelineTest, WithoutWorkersPublishWorksAndFinishesOnTheCallersThread) {
  std::vector<std::size_t> covered;
  std::size_t finishes = 0;
  bool on_caller = true;
  const auto caller = std::this_thread::get_id();
  OrderedPipeline pipeline(
      "test", 1, 0,
      [&](auto worker, auto, auto first, auto end) {
        EXPECT_EQ(worker, 0u);  // workers(): the publishing thread
        for (auto i = first; i < end; ++i) covered.push_back(i);
        on_caller = on_caller && std::this_thread::get_id() == caller;
      },
      [&](auto) {
        ++finishes;
        on_caller = on_caller && std::this_thread::get_id() == caller;
      },
      [](auto) {});
  EXPECT_EQ(pipeline.workers(), 0u);
  pipeline.publish(*pipeline.acquire(), 5);
  EXPECT_EQ(covered, (std::vector<std::size_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(finishes, 1u);
  EXPECT_TRUE(on_caller);
  pipeline.publish(*pipeline.acquire(), 0);  // an empty batch is finished too
  EXPECT_EQ(finishes, 2u);
}

// A batch of two chunks: the worker holds the one it takes until release(); one taken by
// the publishing thread waits until the worker has started, so the batch stays in flight.
struct HeldBatch {
  std::atomic<bool> worker_started{false}, released{false};
  std::atomic<std::size_t> finished{0};
  OrderedPipeline::Work work(std::size_t workers) {
    return [this, workers](auto worker, auto, auto, auto) {
      if (worker == workers) {
        EXPECT_TRUE(eventually([&] { return worker_started.load(); }));
        return;
      }
      worker_started = true;
      eventually([&] { return released.load(); });
    };
  }
  void release() { released = true; }
};

TEST(OrderedPipelineTest, AcquireWaitsWhileEverySlotIsInFlight) {
  HeldBatch held;
  OrderedPipeline pipeline(
      "test", 1, 1, held.work(1), [&](auto) { ++held.finished; }, [](auto) {});
  pipeline.publish(*pipeline.acquire(), 8);
  std::atomic<bool> acquired{false};
  std::thread producer([&] {
    if (pipeline.acquire()) acquired = true;
  });
  // The only slot is still being worked on: acquire must still be waiting.
  EXPECT_FALSE(eventually([&] { return acquired.load(); }, 200ms));
  EXPECT_EQ(held.finished, 0u);
  held.release();
  EXPECT_TRUE(eventually([&] { return acquired.load(); }));
  producer.join();
  EXPECT_EQ(held.finished, 1u);  // by the worker, which completed the batch
}

TEST(OrderedPipelineTest, StopWakesAWaitingProducer) {
  HeldBatch held;
  OrderedPipeline pipeline(
      "test", 1, 1, held.work(1), [](auto) {}, [](auto) {});
  pipeline.publish(*pipeline.acquire(), 8);
  std::atomic<bool> returned{false}, got_slot{false};
  std::thread producer([&] {
    got_slot = pipeline.acquire().has_value();
    returned = true;
  });
  EXPECT_FALSE(eventually([&] { return returned.load(); }, 100ms));
  pipeline.stop();
  EXPECT_TRUE(eventually([&] { return returned.load(); }));
  EXPECT_FALSE(got_slot);
  held.release();
  producer.join();
}

TEST(OrderedPipelineTest, AFailingWorkerStopsThePipelineAndIsReported) {
  std::atomic<bool> worker_started{false}, reported{false};
  std::atomic<std::size_t> finished{0};
  OrderedPipeline pipeline(
      "test", kSlots, 1,
      [&](auto worker, auto, auto, auto) {
        if (worker == 1)
          return static_cast<void>(eventually([&] { return worker_started.load(); }));
        worker_started = true;
        throw std::runtime_error("cipher failed");
      },
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

TEST(OrderedPipelineTest, AFailureOnThePublishingThreadIsRethrownThere) {
  OrderedPipeline pipeline(
      "test", 1, 0, [](auto, auto, auto, auto) { throw std::runtime_error("cipher failed"); },
      [](auto) {}, [](auto) { FAIL() << "reported as a worker's failure"; });
  EXPECT_THROW(pipeline.publish(*pipeline.acquire(), 8), std::runtime_error);
  EXPECT_FALSE(pipeline.acquire());
}

TEST(OrderedPipelineTest, AFailureToFinishIsRethrownOnThePublishingThreadAndStopsThePipeline) {
  std::size_t finish_calls = 0;
  OrderedPipeline pipeline(
      "test", 2, 0, [](auto, auto, auto, auto) {},
      [&](auto) {
        ++finish_calls;
        throw std::runtime_error("send failed");
      },
      [](auto) { FAIL() << "reported as a worker's failure"; });
  EXPECT_THROW(pipeline.publish(*pipeline.acquire(), 8), std::runtime_error);
  EXPECT_FALSE(pipeline.acquire());
  EXPECT_NO_THROW(pipeline.help());  // stopped: nothing is finished again
  EXPECT_EQ(finish_calls, 1u);
}

}  // namespace
}  // namespace squtun::daemon
