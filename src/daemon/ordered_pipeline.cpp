#include "daemon/ordered_pipeline.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <string>

namespace squtun::daemon {

namespace {

// Small enough that every thread gets a share of a batch, large enough that the lock is
// taken once per several packets, not per packet.
constexpr std::size_t kMinChunk = 4;
constexpr std::size_t kMaxThreadName = 15;  // the kernel's limit
constexpr std::chrono::microseconds kWatchForBatch{50};

std::size_t chunk_size(std::size_t items, std::size_t threads) {
  return std::max(kMinChunk, (items + 2 * threads - 1) / (2 * threads));
}

// Releases a held lock for its scope, to run a callback, and takes it back however the scope
// ends, an exception included.
class Unlocked {
 public:
  explicit Unlocked(std::unique_lock<std::mutex>& lock) : lock_(lock) { lock_.unlock(); }
  Unlocked(const Unlocked&) = delete;
  Unlocked& operator=(const Unlocked&) = delete;
  ~Unlocked() { lock_.lock(); }

 private:
  std::unique_lock<std::mutex>& lock_;
};

// Holds the finishing turn for its scope; declared before an Unlocked, it gives the turn
// back with the lock held again.
class FinishingTurn {
 public:
  explicit FinishingTurn(bool& finishing) : finishing_(finishing) { finishing_ = true; }
  FinishingTurn(const FinishingTurn&) = delete;
  FinishingTurn& operator=(const FinishingTurn&) = delete;
  ~FinishingTurn() { finishing_ = false; }

 private:
  bool& finishing_;
};

}  // namespace

OrderedPipeline::OrderedPipeline(const char* worker_name, std::size_t slots, std::size_t workers,
                                 Work work, Finish finish, Failed failed)
    : work_(std::move(work)),
      finish_(std::move(finish)),
      failed_(std::move(failed)),
      slot_items_(slots),
      slot_claimed_(slots),
      slot_done_(slots),
      slot_chunk_(slots) {
  workers_.reserve(workers);
  for (std::size_t w = 0; w < workers; ++w) {
    workers_.emplace_back([this, w] { work_loop(w); });
    // Named by the thread that creates them: a thread naming itself could already be under
    // the seccomp filter, which forbids it.
    const std::string name = worker_name + std::to_string(w + 1);
    pthread_setname_np(workers_.back().native_handle(), name.substr(0, kMaxThreadName).c_str());
  }
}

OrderedPipeline::~OrderedPipeline() {
  stop();
  for (auto& worker : workers_) worker.join();
}

std::optional<std::size_t> OrderedPipeline::acquire() {
  Lock lock(mutex_);
  while (!stopping_ && published_ - finished_ >= slots()) {
    if (claiming_ == published_) {
      slot_free_.wait(lock);
    } else {
      run_on_caller(lock);  // rather than wait for the workers, do their work
    }
  }
  if (stopping_) return std::nullopt;
  return published_ % slots();
}

void OrderedPipeline::publish(std::size_t slot, std::size_t items, Sharing sharing) {
  Lock lock(mutex_);
  const bool shared = !workers_.empty() && sharing == Sharing::WithWorkers;
  slot_items_[slot] = items;
  slot_claimed_[slot] = 0;
  slot_done_[slot] = 0;
  slot_chunk_[slot] = shared ? chunk_size(items, workers() + 1) : std::max<std::size_t>(items, 1);
  ++published_;
  published_count_.store(published_, std::memory_order_release);
  if (!shared) return run_on_caller(lock);
  shared_count_.fetch_add(1, std::memory_order_release);
  for (std::size_t c = 0; c < items && c / slot_chunk_[slot] < workers(); c += slot_chunk_[slot])
    work_ready_.notify_one();
  if (items == 0) run_on_caller(lock);  // nothing to work on: finished at once, in its turn
}

void OrderedPipeline::help() {
  Lock lock(mutex_);
  run_on_caller(lock);
}

void OrderedPipeline::run_on_caller(Lock& lock) {
  try {
    help(lock, workers());
    finish_done(lock);  // batches the workers completed meanwhile
  } catch (...) {
    stop_locked();
    throw;
  }
}

void OrderedPipeline::stop() {
  Lock lock(mutex_);
  stop_locked();
}

void OrderedPipeline::stop_locked() {
  stopping_ = true;
  work_ready_.notify_all();
  slot_free_.notify_all();
}

std::optional<OrderedPipeline::Chunk> OrderedPipeline::claim_chunk() {
  for (; claiming_ < published_; ++claiming_) {
    const std::size_t slot = claiming_ % slots();
    const std::size_t first = slot_claimed_[slot];
    if (first == slot_items_[slot]) continue;
    const std::size_t end = std::min(slot_items_[slot], first + slot_chunk_[slot]);
    slot_claimed_[slot] = end;
    return Chunk{slot, first, end};
  }
  return std::nullopt;
}

bool OrderedPipeline::oldest_done() const {
  const std::size_t slot = finished_ % slots();
  return finished_ < published_ && slot_done_[slot] == slot_items_[slot];
}

void OrderedPipeline::help(Lock& lock, std::size_t worker) {
  while (!stopping_) {
    const std::optional<Chunk> chunk = claim_chunk();
    if (!chunk) return;
    {
      const Unlocked unlocked(lock);
      work_(worker, chunk->slot, chunk->first, chunk->end);
    }
    slot_done_[chunk->slot] += chunk->end - chunk->first;
    finish_done(lock);
  }
}

void OrderedPipeline::finish_done(Lock& lock) {
  if (finishing_) return;  // that thread also finishes what became done meanwhile
  const FinishingTurn turn(finishing_);
  while (!stopping_ && oldest_done()) {
    const std::size_t slot = finished_ % slots();
    {
      const Unlocked unlocked(lock);
      finish_(slot);
    }
    ++finished_;
    finished_count_.store(finished_, std::memory_order_release);
    slot_free_.notify_one();
  }
}

void OrderedPipeline::work_loop(std::size_t worker) {
  Lock lock(mutex_);
  while (!stopping_) {
    if (claiming_ == published_) await_batch(lock);
    try {
      help(lock, worker);
    } catch (...) {
      stop_locked();
      lock.unlock();
      failed_(std::current_exception());
      return;
    }
  }
}

// A worker woken through the condition variable arrives tens of microseconds late, when the
// reading thread has done much of a batch itself: it first watches for the next shared
// batch a little while, which is about the time the reading thread takes to read one. A
// batch the caller keeps to itself does not end the watch, so it costs no worker a wake-up.
void OrderedPipeline::await_batch(Lock& lock) {
  const std::uint64_t seen = shared_count_.load(std::memory_order_relaxed);
  lock.unlock();
  const auto until = std::chrono::steady_clock::now() + kWatchForBatch;
  while (shared_count_.load(std::memory_order_acquire) == seen &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::yield();
  lock.lock();
  work_ready_.wait(lock, [this] { return stopping_ || claiming_ < published_; });
}

}  // namespace squtun::daemon
