#include "daemon/ordered_pipeline.h"

#include <algorithm>

namespace squtun::daemon {

namespace {

// Small enough that every worker gets a share of a batch, large enough that the lock is
// taken once per several packets, not per packet.
constexpr std::size_t kMinChunk = 4;

std::size_t chunk_size(std::size_t items, std::size_t workers) {
  return std::max(kMinChunk, (items + 2 * workers - 1) / (2 * workers));
}

}  // namespace

OrderedPipeline::OrderedPipeline(std::size_t slots, std::size_t workers, Work work, Finish finish, Failed failed)
    : work_(std::move(work)),
      finish_(std::move(finish)),
      failed_(std::move(failed)),
      slot_items_(slots),
      slot_claimed_(slots),
      slot_done_(slots),
      slot_chunk_(slots) {
  if (workers == 0) return;
  workers_.reserve(workers);
  for (std::size_t w = 0; w < workers; ++w) workers_.emplace_back([this, w] { work_loop(w); });
  finisher_ = std::thread([this] { finish_loop(); });
}

OrderedPipeline::~OrderedPipeline() {
  stop();
  for (auto& worker : workers_) worker.join();
  if (finisher_.joinable()) finisher_.join();
}

std::optional<std::size_t> OrderedPipeline::acquire() {
  std::unique_lock lock(mutex_);
  slot_free_.wait(lock, [this] { return stopping_ || published_ - finished_ < slots(); });
  if (stopping_) return std::nullopt;
  return published_ % slots();
}

void OrderedPipeline::publish(std::size_t slot, std::size_t items) {
  if (workers_.empty()) {
    if (items > 0) work_(0, slot, 0, items);
    return finish_(slot);
  }
  {
    std::lock_guard lock(mutex_);
    slot_items_[slot] = items;
    slot_claimed_[slot] = 0;
    slot_done_[slot] = 0;
    slot_chunk_[slot] = chunk_size(items, workers_.size());
    ++published_;
  }
  if (items > slot_chunk_[slot]) {
    work_ready_.notify_all();
  } else if (items > 0) {
    work_ready_.notify_one();
  }
  batch_done_.notify_one();  // an empty batch is done at once
}

void OrderedPipeline::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  batch_done_.notify_all();
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

void OrderedPipeline::work_loop(std::size_t worker) {
  std::unique_lock lock(mutex_);
  while (true) {
    std::optional<Chunk> chunk;
    work_ready_.wait(lock, [&] { return stopping_ || (chunk = claim_chunk()); });
    if (stopping_) return;
    lock.unlock();
    try {
      work_(worker, chunk->slot, chunk->first, chunk->end);
    } catch (...) {
      return fail(std::current_exception());
    }
    lock.lock();
    slot_done_[chunk->slot] += chunk->end - chunk->first;
    if (chunk->slot == finished_ % slots() && oldest_done()) batch_done_.notify_one();
  }
}

void OrderedPipeline::finish_loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    batch_done_.wait(lock, [this] { return stopping_ || oldest_done(); });
    if (stopping_) return;
    const std::size_t slot = finished_ % slots();
    lock.unlock();
    try {
      finish_(slot);
    } catch (...) {
      return fail(std::current_exception());
    }
    lock.lock();
    ++finished_;
    slot_free_.notify_one();
  }
}

void OrderedPipeline::fail(std::exception_ptr error) {
  stop();
  failed_(error);
}

}  // namespace squtun::daemon
