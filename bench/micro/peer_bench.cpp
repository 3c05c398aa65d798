// The Peer's per-batch bookkeeping on the data path, without the AEAD (benchmarked apart in
// data_packet_bench.cpp) and without I/O: what the daemon does under its peer lock for each
// batch of 64 packets. reserve_send takes the counters for a batch going out; receive +
// commit_data are the checks before and after opening each packet of a batch coming in;
// each stretch under the lock ends by taking the events it recorded.
#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "crypto/aead.h"
#include "protocol/constants.h"
#include "protocol/counters.h"
#include "protocol/data_packet.h"
#include "protocol/messages.h"
#include "protocol/peer.h"

namespace squtun::protocol {
namespace {

constexpr std::size_t kBatch = 64;
constexpr std::size_t kInnerSize = 1420;  // reported to commit_data; the bytes are not opened

const base::Endpoint kAddrA = base::Endpoint::v4({198, 18, 0, 1}, 7778);
const base::Endpoint kAddrB = base::Endpoint::v4({198, 18, 0, 2}, 7777);

crypto::Key bench_psk() {
  crypto::Key key;
  for (std::size_t i = 0; i < key.size(); ++i) key.data()[i] = static_cast<std::uint8_t>(0x5a ^ i);
  return key;
}

// One end of a static pair, with deterministic randomness.
struct End {
  End(base::Endpoint self, base::Endpoint other, std::uint64_t seed)
      : addr(self),
        rng(seed),
        peer(bench_psk(), nullptr, config_for(other), counters, [this](std::span<std::uint8_t> out) {
          for (auto& b : out) b = static_cast<std::uint8_t>(rng());
        }) {}
  static PeerConfig config_for(base::Endpoint other) {
    PeerConfig c;
    c.fixed_endpoint = other;
    return c;
  }
  base::Endpoint addr;
  std::mt19937_64 rng;
  Counters counters;
  Peer peer;
  crypto::AeadContext aead;
};

// A and B, handshake done: control messages carried until both ends are quiet.
struct Pair {
  End a{kAddrA, kAddrB, 1};
  End b{kAddrB, kAddrA, 2};
  Now now{std::chrono::seconds(1000), 1'700'000'000'000'000'000ULL};

  bool establish() {
    a.peer.start(now);
    b.peer.start(now);
    for (int round = 0; round < 20; ++round) {
      int moved = 0;
      for (End* from : {&a, &b}) {
        End& to = from == &a ? b : a;
        while (auto out = from->peer.pop_outgoing()) {
          ++moved;
          std::vector<std::uint8_t> bytes(out->message().begin(), out->message().end());
          const auto ticket = to.peer.receive(bytes, from->addr, now);
          if (!ticket) continue;  // a handshake message, handled inside receive
          const std::span<std::uint8_t> all(bytes);
          const auto inner = open_packet(to.aead, *ticket->session, bytes, all.subspan(kDataHeaderSize));
          if (!inner || !to.peer.commit_data(*ticket, from->addr, *inner, now)) return false;
        }
      }
      if (moved == 0) break;
    }
    return a.peer.has_session() && b.peer.has_session();
  }
};

// One reserve_send per batch of 64 outgoing packets.
void BM_PeerReserveSend(benchmark::State& state) {
  Pair p;
  if (!p.establish()) {
    state.SkipWithError("handshake did not complete");
    return;
  }
  for (auto _ : state) {
    auto ticket = p.a.peer.reserve_send(kBatch, p.now);
    if (!ticket) {
      state.SkipWithError("reserve_send refused");
      break;
    }
    benchmark::DoNotOptimize(ticket->first_counter);
    auto events = p.a.peer.take_events();
    benchmark::DoNotOptimize(events);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
  state.SetLabel("per batch of 64; items = packets");
}

// For a batch of 64 incoming data messages: receive() each (parse, session lookup, replay
// check), then commit_data() each (replay window update, timers, counters), as open_batch
// does in two passes around the AEAD. Messages carry fresh counters every batch.
void BM_PeerReceiveCommitBatch(benchmark::State& state) {
  Pair p;
  if (!p.establish()) {
    state.SkipWithError("handshake did not complete");
    return;
  }
  // B's session index, as A writes it into every data header it sends.
  const auto probe = p.a.peer.reserve_send(1, p.now);
  if (!probe) {
    state.SkipWithError("reserve_send refused");
    return;
  }
  const std::uint32_t receiver_index = probe->session->remote_index;
  std::uint64_t next_counter = probe->first_counter + 1000;

  // Header plus a tag's worth of bytes: receive() looks at the header only. A ring of
  // batches is written ahead, with the clock stopped, each time it runs out.
  constexpr std::size_t kRing = 1024;
  std::vector<std::array<std::uint8_t, kDataOverhead>> messages(kRing * kBatch);
  const auto refill = [&] {
    for (auto& m : messages) {
      const auto header = encode(DataHeader{receiver_index, next_counter++});
      std::copy(header.begin(), header.end(), m.begin());
    }
  };
  refill();
  std::size_t batch = 0;
  std::array<std::optional<Peer::ReceiveTicket>, kBatch> tickets;
  std::int64_t refused = 0;
  for (auto _ : state) {
    if (batch == kRing) {
      state.PauseTiming();
      refill();
      batch = 0;
      state.ResumeTiming();
    }
    const auto* m = &messages[batch++ * kBatch];
    for (std::size_t i = 0; i < kBatch; ++i) tickets[i] = p.b.peer.receive(m[i], kAddrA, p.now);
    auto received = p.b.peer.take_events();
    benchmark::DoNotOptimize(received);
    for (std::size_t i = 0; i < kBatch; ++i) {
      if (!tickets[i] || !p.b.peer.commit_data(*tickets[i], kAddrA, kInnerSize, p.now)) ++refused;
    }
    auto committed = p.b.peer.take_events();
    benchmark::DoNotOptimize(committed);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
  state.SetLabel("per batch of 64; items = packets");
  if (refused != 0) state.SkipWithError("fresh data messages were refused");
}

BENCHMARK(BM_PeerReserveSend);
BENCHMARK(BM_PeerReceiveCommitBatch);

}  // namespace
}  // namespace squtun::protocol
