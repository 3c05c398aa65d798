// What a handshake-shaped datagram costs before it can be refused: the initiation MAC
// check alone (HandshakeCrypto::verify), and the whole of Peer::receive for a forged
// initiation (classify, decode, budget, MAC) on a passive end, which accepts initiations
// from any source. A flood of such datagrams costs exactly this per datagram.
#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <cstdint>

#include "protocol/constants.h"
#include "protocol/counters.h"
#include "protocol/handshake.h"
#include "protocol/messages.h"
#include "protocol/peer.h"

namespace squtun::protocol {
namespace {

crypto::Key bench_psk() {
  crypto::Key key;
  for (std::size_t i = 0; i < key.size(); ++i) key.data()[i] = static_cast<std::uint8_t>(0x5a ^ i);
  return key;
}

// A well-formed initiation whose MAC is wrong, with a counter in its random so that no two
// are the same.
InitiationBytes forged_initiation(std::uint64_t n) {
  Initiation m;
  m.sender_index = static_cast<std::uint32_t>(n);
  for (std::size_t i = 0; i < 8; ++i) m.random[i] = static_cast<std::uint8_t>(n >> (8 * i));
  m.timestamp_ns = 1'700'000'000'000'000'000ULL + n;
  return encode(m);
}

void BM_InitiationMacCheck(benchmark::State& state) {
  HandshakeCrypto crypto(bench_psk());
  std::uint64_t n = 0;
  std::int64_t verified = 0;
  for (auto _ : state) {
    const auto m = decode_initiation(forged_initiation(n++));
    if (crypto.verify(*m)) ++verified;
  }
  state.SetItemsProcessed(state.iterations());
  if (verified != 0) state.SkipWithError("a forged MAC verified");
}

void BM_InitiationMacCheckGenuine(benchmark::State& state) {
  HandshakeCrypto crypto(bench_psk());
  Random random{};
  random.fill(0x42);
  const Initiation m = crypto.make_initiation(7, random, 1'700'000'000'000'000'000ULL);
  std::int64_t refused = 0;
  for (auto _ : state) {
    if (!crypto.verify(m)) ++refused;
  }
  state.SetItemsProcessed(state.iterations());
  if (refused != 0) state.SkipWithError("a genuine MAC was refused");
}

// A passive end under a flood of forged initiations from one source; the clock advances
// 1 us per datagram (a flood of a million a second), so any per-second budget refills as
// it would under such a flood. Each item is one datagram refused.
void BM_PeerReceiveForgedInitiation(benchmark::State& state) {
  Counters counters;
  std::uint64_t seed = 1;
  Peer peer(bench_psk(), nullptr, PeerConfig{}, counters, [&seed](std::span<std::uint8_t> out) {
    for (auto& b : out) b = static_cast<std::uint8_t>(seed = seed * 6364136223846793005ULL + 1);
  });
  const base::Endpoint from = base::Endpoint::v4({198, 18, 0, 3}, 40000);
  Now now{std::chrono::seconds(1000), 1'700'000'000'000'000'000ULL};
  std::uint64_t n = 0;
  for (auto _ : state) {
    const auto bytes = forged_initiation(n++);
    now.mono += std::chrono::microseconds(1);
    benchmark::DoNotOptimize(peer.receive(bytes, from, now));
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["bad_mac"] = static_cast<double>(counters.dropped(DropReason::BadMac));
  state.counters["rate_limited"] = static_cast<double>(counters.dropped(DropReason::RateLimited));
}

BENCHMARK(BM_InitiationMacCheck);
BENCHMARK(BM_InitiationMacCheckGenuine);
BENCHMARK(BM_PeerReceiveForgedInitiation);

}  // namespace
}  // namespace squtun::protocol
