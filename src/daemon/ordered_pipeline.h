#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace squtun::daemon {

// Spreads the per-item work of batches over worker threads and finishes the batches
// strictly in the order they were published, as WireGuard's per-peer queue does: one
// thread fills slots and publishes them, the workers process chunks of each slot's items
// in parallel, and one finishing thread takes the slots back oldest first. The caller
// owns the batches, indexed by slot; the pipeline hands out only slot numbers, so after
// construction it allocates nothing.
//
// With no workers there are no threads either: publish() works and finishes the batch
// itself, on the caller's thread.
class OrderedPipeline {
 public:
  // Processes items [first, end) of the batch in `slot`, on worker `worker` (< workers).
  using Work = std::function<void(std::size_t worker, std::size_t slot, std::size_t first, std::size_t end)>;
  // Takes the batch in `slot` once all its items are processed, in publication order.
  using Finish = std::function<void(std::size_t slot)>;
  // A worker's or the finisher's exception; the pipeline has stopped.
  using Failed = std::function<void(std::exception_ptr)>;

  OrderedPipeline(std::size_t slots, std::size_t workers, Work work, Finish finish, Failed failed);
  OrderedPipeline(const OrderedPipeline&) = delete;
  OrderedPipeline& operator=(const OrderedPipeline&) = delete;
  ~OrderedPipeline();  // stops, then joins the threads

  std::size_t slots() const { return slot_items_.size(); }
  std::size_t workers() const { return workers_.size(); }

  // The slot to fill next, waiting while every slot is in flight; nothing once stopped.
  // The same slot again until it is published.
  std::optional<std::size_t> acquire();
  // Hands the slot acquire() returned, now holding `items` items, to the workers.
  void publish(std::size_t slot, std::size_t items);
  // Wakes every thread waiting in the pipeline; batches not yet finished are dropped.
  // Safe from any thread, a worker's included.
  void stop();

 private:
  struct Chunk {
    std::size_t slot, first, end;
  };
  void work_loop(std::size_t worker);
  void finish_loop();
  // The next chunk of the oldest slot with unclaimed items; call with mutex_ held.
  std::optional<Chunk> claim_chunk();
  bool oldest_done() const;  // with mutex_ held
  void fail(std::exception_ptr error);

  const Work work_;
  const Finish finish_;
  const Failed failed_;

  std::mutex mutex_;
  // Guarded by mutex_. Batches are numbered in publication order; batch b is in slot b % slots().
  std::condition_variable work_ready_, batch_done_, slot_free_;
  bool stopping_ = false;
  std::uint64_t published_ = 0;
  std::uint64_t claiming_ = 0;  // the oldest batch with unclaimed items
  std::uint64_t finished_ = 0;
  std::vector<std::size_t> slot_items_, slot_claimed_, slot_done_, slot_chunk_;

  std::vector<std::thread> workers_;
  std::thread finisher_;
};

}  // namespace squtun::daemon
