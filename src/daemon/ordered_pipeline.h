#pragma once

#include <atomic>
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

// Spreads the per-item work of batches over threads and finishes the batches strictly in
// the order they were published, as WireGuard's per-peer queue does. One thread fills
// slots and publishes them while it has input; whenever it has none, or every slot is in
// flight, it works on the chunks of items still unclaimed beside the workers, so a lone
// packet waits for no worker to wake up. Whichever thread completes the oldest batch
// finishes it, and the ones done after it, while holding the finishing turn: one thread at
// a time, in publication order. The caller owns the batches, indexed by slot; the pipeline
// hands out only slot numbers, so after construction it allocates nothing.
class OrderedPipeline {
 public:
  // Processes items [first, end) of the batch in `slot`. `worker` is below workers() on a
  // worker thread, and workers() on the publishing thread.
  using Work =
      std::function<void(std::size_t worker, std::size_t slot, std::size_t first, std::size_t end)>;
  // Takes the batch in `slot` once all its items are processed, in publication order.
  using Finish = std::function<void(std::size_t slot)>;
  // A worker's exception; the pipeline has stopped.
  using Failed = std::function<void(std::exception_ptr)>;

  OrderedPipeline(const char* worker_name, std::size_t slots, std::size_t workers, Work work,
                  Finish finish, Failed failed);
  OrderedPipeline(const OrderedPipeline&) = delete;
  OrderedPipeline& operator=(const OrderedPipeline&) = delete;
  ~OrderedPipeline();  // stops, then joins the workers

  std::size_t slots() const { return slot_items_.size(); }
  std::size_t workers() const { return workers_.size(); }

  // The slot to fill next; while every slot is in flight, works on their unclaimed chunks
  // or waits. Nothing once stopped. The same slot again until it is published.
  std::optional<std::size_t> acquire();
  // Whether the workers share a batch's items, or the publishing thread does them alone.
  enum class Sharing { WithWorkers, CallerOnly };
  // Hands the slot acquire() returned, now holding `items` items, to the workers. Without
  // workers, or CallerOnly, processes it before it returns (with the chunks of older batches
  // still unclaimed) and finishes what is done, in order.
  void publish(std::size_t slot, std::size_t items, Sharing sharing = Sharing::WithWorkers);
  // Works on unclaimed chunks until there are none and finishes what is done: for the
  // publishing thread when it has nothing to read. acquire(), publish() and help() rethrow
  // what work or finish threw on the calling thread, after stopping the pipeline.
  void help();
  // No batch is in flight: every one published is finished. Readable without the lock.
  bool idle() const {
    return finished_count_.load(std::memory_order_acquire) ==
           published_count_.load(std::memory_order_acquire);
  }
  // Wakes every thread waiting in the pipeline; batches not yet finished are dropped.
  // Safe from any thread.
  void stop();

 private:
  using Lock = std::unique_lock<std::mutex>;
  struct Chunk {
    std::size_t slot, first, end;
  };
  void work_loop(std::size_t worker);
  void await_batch(Lock& lock);
  void run_on_caller(Lock& lock);
  // Works on unclaimed chunks until there are none. The lock is held on entry and on every
  // exit, an exception's included; work and finish run without it.
  void help(Lock& lock, std::size_t worker);
  // Finishes the oldest batches that are done, unless another thread has the turn.
  void finish_done(Lock& lock);
  std::optional<Chunk> claim_chunk();
  bool oldest_done() const;
  void stop_locked();

  const Work work_;
  const Finish finish_;
  const Failed failed_;

  // Everything below is guarded by mutex_. Batches are numbered in publication order;
  // batch b is in slot b % slots().
  std::mutex mutex_;
  std::condition_variable work_ready_, slot_free_;
  bool stopping_ = false;
  bool finishing_ = false;  // a thread has the finishing turn
  std::uint64_t published_ = 0;
  std::uint64_t claiming_ = 0;  // the oldest batch with unclaimed items
  std::uint64_t finished_ = 0;
  std::vector<std::size_t> slot_items_, slot_claimed_, slot_done_, slot_chunk_;

  // published_ and finished_, readable without the lock; and the batches published With
  // Workers, which a worker watching for the next batch waits for.
  std::atomic<std::uint64_t> published_count_{0}, finished_count_{0}, shared_count_{0};
  std::vector<std::thread> workers_;
};

}  // namespace squtun::daemon
