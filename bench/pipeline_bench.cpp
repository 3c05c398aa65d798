// How the data path scales with --threads, without the kernel: the OrderedPipeline of the
// daemon between in-memory stand-ins for the TUN device and the UDP socket. The reading
// thread copies prepared packets into a batch's slots (as a read from the device or
// recvmmsg copies them), reserves their counters under a lock (as Peer::reserve_send) and
// publishes the batch; the pipeline's threads seal (or open) them with seal_packet (or
// open_packet); the finishing thread copies every datagram out (as sendmmsg or the write to
// the device copies it) and checks that the batches leave in the order they were read.
// Batches are the daemon's (Tunnel::kBatchSize packets), and every one is shared with the
// workers, so this measures what the pipeline can do; the daemon shares only the batches
// Tunnel::sharing() finds worth it, and the output says which sizes it keeps on the
// reading thread.
// Prints packets per second and Gbit/s of inner packets for 1..N threads and 64 and
// 1420-byte packets, and each figure's ratio to one thread.
//
//   build-bench/bench/squtun_pipeline_bench [--seconds S] [--rounds R] [--threads N]
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "daemon/ordered_pipeline.h"
#include "daemon/tunnel.h"
#include "net/datagram_batch.h"
#include "protocol/constants.h"
#include "protocol/data_packet.h"
#include "protocol/session.h"

namespace squtun::daemon {
namespace {

using protocol::kDataHeaderSize;
using protocol::kDataOverhead;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kBatch = Tunnel::kBatchSize;
constexpr std::size_t kSlotBytes = 2048;

crypto::Key key_of(int seed) {
  crypto::Key key;
  for (std::size_t i = 0; i < key.size(); ++i)
    key.data()[i] = static_cast<std::uint8_t>(seed * 31 + i);
  return key;
}

enum class Direction { Seal, Open };

struct Result {
  double packets_per_second = 0;
  double gbit_per_second = 0;
  bool in_order = true;
};

// One run: `threads` threads (the reading one and threads - 1 workers) move packets of
// `size` bytes for `seconds`.
class PipelineRun {
 public:
  PipelineRun(Direction direction, std::size_t size, std::size_t threads)
      : direction_(direction), size_(size), threads_(threads), aead_(threads) {
    for (std::size_t i = 0; i < Tunnel::kPipelineSlots; ++i)
      batches_.emplace_back(kBatch, kSlotBytes);
    prepare_input();
  }

  Result run(double seconds) {
    OrderedPipeline pipeline(
        "bench", Tunnel::kPipelineSlots, threads_ - 1,
        [this](auto w, auto s, auto first, auto end) { work(w, s, first, end); },
        [this](auto s) { finish(s); }, [](auto) { std::abort(); });
    const auto start = Clock::now();
    const auto until = start + std::chrono::duration<double>(seconds);
    std::uint64_t published = 0;
    while (Clock::now() < until) {
      const auto slot = pipeline.acquire();
      read_batch(*slot, published);
      pipeline.publish(*slot, kBatch);
      ++published;
    }
    while (finished_batches_.load() < published)
      std::this_thread::yield();  // the workers' last chunks
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const double packets = static_cast<double>(published * kBatch);
    return {packets / elapsed, packets * static_cast<double>(size_) * 8 / elapsed / 1e9, in_order_};
  }

 private:
  // What the device (sealing) or the socket (opening) hands the reading thread, prepared once.
  void prepare_input() {
    input_.assign(kBatch, std::vector<std::uint8_t>(size_ + kDataOverhead));
    crypto::AeadContext aead;
    for (std::size_t i = 0; i < kBatch; ++i) {
      auto& packet = input_[i];
      for (std::size_t b = 0; b < size_; ++b)
        packet[kDataHeaderSize + b] = static_cast<std::uint8_t>(i + b);
      if (direction_ == Direction::Open)
        protocol::seal_packet(aead, sender_, i, {packet.data() + kDataHeaderSize, size_}, packet);
    }
  }

  void read_batch(std::size_t slot, std::uint64_t number) {
    net::DatagramBatch& batch = batches_[slot];
    batch.set_count(kBatch);
    for (std::size_t i = 0; i < kBatch; ++i) {
      if (direction_ == Direction::Seal) {
        std::memcpy(batch.slot(i).data() + kDataHeaderSize, input_[i].data() + kDataHeaderSize,
                    size_);
        batch.length(i) = size_;
      } else {
        std::memcpy(batch.slot(i).data(), input_[i].data(), input_[i].size());
        batch.length(i) = input_[i].size();
      }
    }
    std::lock_guard lock(counter_mutex_);
    first_counter_[slot] = next_counter_;
    next_counter_ += kBatch;
    batch_number_[slot] = number;
  }

  void work(std::size_t worker, std::size_t slot, std::size_t first, std::size_t end) {
    net::DatagramBatch& batch = batches_[slot];
    for (std::size_t i = first; i < end; ++i) {
      auto datagram = batch.slot(i);
      if (direction_ == Direction::Seal) {
        batch.length(i) = protocol::seal_packet(aead_[worker], sender_, first_counter_[slot] + i,
                                                datagram.subspan(kDataHeaderSize, size_), datagram);
      } else {
        const auto inner =
            protocol::open_packet(aead_[worker], receiver_, datagram.first(batch.length(i)),
                                  datagram.subspan(kDataHeaderSize));
        batch.length(i) = inner ? *inner : 0;
      }
    }
  }

  void finish(std::size_t slot) {
    net::DatagramBatch& batch = batches_[slot];
    const std::size_t offset = direction_ == Direction::Seal ? 0 : kDataHeaderSize;
    for (std::size_t i = 0; i < kBatch; ++i)
      std::memcpy(sink_.data(), batch.slot(i).data() + offset, batch.length(i));
    in_order_ = in_order_ && batch_number_[slot] == finished_batches_.load();
    ++finished_batches_;
  }

  const Direction direction_;
  const std::size_t size_;
  const std::size_t threads_;
  protocol::Session sender_{1, 2, protocol::SessionKeys{key_of(1), key_of(2)},
                            protocol::Role::Initiator, protocol::Duration{0}};
  protocol::Session receiver_{2, 1, protocol::SessionKeys{key_of(2), key_of(1)},
                              protocol::Role::Responder, protocol::Duration{0}};
  std::vector<crypto::AeadContext> aead_;
  std::vector<net::DatagramBatch> batches_;
  std::vector<std::vector<std::uint8_t>> input_;
  std::array<std::uint8_t, kSlotBytes> sink_{};
  std::mutex counter_mutex_;
  std::uint64_t next_counter_ = 0;
  std::array<std::uint64_t, Tunnel::kPipelineSlots> first_counter_{}, batch_number_{};
  std::atomic<std::uint64_t> finished_batches_{0};
  bool in_order_ = true;  // only the finishing turn's holder touches it
};

// The median of `rounds` runs, by packet rate: the machine's other load comes and goes.
Result median_run(Direction direction, std::size_t size, std::size_t threads, double seconds,
                  int rounds) {
  std::vector<Result> results;
  for (int r = 0; r < rounds; ++r)
    results.push_back(PipelineRun(direction, size, threads).run(seconds));
  std::sort(results.begin(), results.end(), [](const Result& a, const Result& b) {
    return a.packets_per_second < b.packets_per_second;
  });
  Result median = results[results.size() / 2];
  median.in_order =
      std::all_of(results.begin(), results.end(), [](const Result& r) { return r.in_order; });
  return median;
}

int run(double seconds, std::size_t max_threads, int rounds) {
  std::printf(
      "squtun_pipeline_bench: %zu online CPUs, batches of %zu packets, median of %d runs of %.1f s "
      "each\n",
      static_cast<std::size_t>(sysconf(_SC_NPROCESSORS_ONLN)), kBatch, rounds, seconds);
  std::printf("%-6s %6s %8s %10s %9s %9s %8s\n", "path", "bytes", "threads", "kpps", "Gbit/s",
              "to 1", "order");
  bool all_in_order = true;
  for (const Direction direction : {Direction::Seal, Direction::Open}) {
    for (const std::size_t size : {std::size_t{64}, std::size_t{1420}}) {
      double one = 0;
      for (std::size_t threads = 1; threads <= max_threads; ++threads) {
        const Result r = median_run(direction, size, threads, seconds, rounds);
        if (threads == 1) one = r.packets_per_second;
        all_in_order = all_in_order && r.in_order;
        std::printf("%-6s %6zu %8zu %10.1f %9.2f %8.2fx %8s\n",
                    direction == Direction::Seal ? "seal" : "open", size, threads,
                    r.packets_per_second / 1e3, r.gbit_per_second, r.packets_per_second / one,
                    r.in_order ? "ok" : "BROKEN");
      }
    }
  }
  for (const std::size_t size : {std::size_t{64}, std::size_t{1420}}) {
    if (Tunnel::sharing(kBatch, kBatch * size) == OrderedPipeline::Sharing::CallerOnly)
      std::printf("the daemon keeps batches of %zu-byte packets on the reading thread (it shares "
                  "%zu bytes or more, %zu a packet on average): they scale as 1 thread there\n",
                  size, Tunnel::kMinSharedBytes, Tunnel::kMinSharedAverage);
  }
  return all_in_order ? 0 : 1;
}

}  // namespace
}  // namespace squtun::daemon

int main(int argc, char** argv) {
  double seconds = 1.0;
  int rounds = 3;
  std::size_t threads = std::max<long>(4, sysconf(_SC_NPROCESSORS_ONLN));
  const auto usage = [&](FILE* to) {
    std::fprintf(to, "usage: %s [--seconds S] [--rounds R] [--threads N]\n", argv[0]);
  };
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") {
      usage(stdout);
      return 0;
    }
    const bool has_value = i + 1 < argc;
    if (flag == "--seconds" && has_value) {
      seconds = std::clamp(std::atof(argv[i + 1]), 0.1, 60.0);
    } else if (flag == "--rounds" && has_value) {
      rounds = std::clamp(std::atoi(argv[i + 1]), 1, 99);
    } else if (flag == "--threads" && has_value) {
      threads = std::clamp<std::size_t>(std::strtoul(argv[i + 1], nullptr, 10), 1, 64);
    } else {
      usage(stderr);
      return 2;
    }
  }
  return squtun::daemon::run(seconds, threads, rounds);
}
