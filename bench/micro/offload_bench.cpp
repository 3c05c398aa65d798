// The TUN offload building blocks, per call: the Internet checksum of an MTU-sized packet
// and of a 64 KiB super-packet, splitting a 64 KiB TSO super-packet into MSS-sized
// segments (copy, lengths, checksums), and coalescing 44 TCP segments into one write.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tun/checksum.h"
#include "tun/gro_coalescer.h"
#include "tun/gso_splitter.h"
#include "tun/ip_packet.h"

namespace squtun::tun {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes pattern(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 131 + 7);
  return b;
}

void BM_Checksum(benchmark::State& state) {
  const Bytes data = pattern(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(internet_checksum(data));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
}

// An IPv4 TCP packet of `payload` bytes starting at seq; checksums complete unless partial.
Bytes tcp4(std::size_t payload, std::uint32_t seq, bool partial) {
  Bytes p = pattern(40 + payload);
  const std::uint8_t head[40] = {0x45, 0, 0, 0, 0,  1, 0x40, 0,    64,   6,    0,    0,
                                 10,   0, 0, 1, 10, 0, 0,    2,    0x9c, 0x40, 0x01, 0xbb,
                                 0,    0, 0, 0, 0,  0, 0x30, 0x39, 0x50, 0x10, 0x01, 0xf5};
  std::copy(head, head + 40, p.begin());
  base::store_be16(&p[2], static_cast<std::uint16_t>(p.size()));
  base::store_be16(&p[10], internet_checksum({p.data(), 20}));
  base::store_be32(&p[24], seq);
  const ip::Layout layout{false, ip::kTcp, 20, 20};
  const std::uint32_t pseudo =
      checksum_combine(ip::pseudo_address_sum(p.data(), layout), static_cast<std::uint32_t>(p.size() - 20));
  base::store_be16(&p[36], partial
                               ? checksum_fold(pseudo)
                               : checksum_finish(checksum_add({&p[20], p.size() - 20}, pseudo)));
  return p;
}

void BM_SplitTso4(benchmark::State& state) {
  const auto mss = static_cast<std::uint16_t>(state.range(0));
  const Bytes super = tcp4(65535 - 40, 1, true);
  const VnetHeader header{kVnetFlagNeedsCsum, kGsoTcpV4, 40, mss, 20, 16};
  GsoSplitter splitter;
  Bytes out(2048);
  std::size_t segments = 0;
  for (auto _ : state) {
    if (splitter.start(header, super) != SplitStatus::Ok) state.SkipWithError("start failed");
    while (const std::size_t n = splitter.next(out)) {
      benchmark::DoNotOptimize(out.data());
      benchmark::DoNotOptimize(n);
      ++segments;
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * super.size()));
  state.counters["segments"] = static_cast<double>(segments) / static_cast<double>(state.iterations());
}

// 44 full-sized segments of one flow (1380 bytes each: one 60 KiB super-packet), offered
// as the receive path would. Coalescing rewrites the first packet's headers, so each round
// restores those 40 bytes first.
void BM_Coalesce44(benchmark::State& state) {
  constexpr std::size_t kSegments = 44, kMss = 1380;
  std::vector<Bytes> packets;
  for (std::size_t i = 0; i < kSegments; ++i)
    packets.push_back(tcp4(kMss, static_cast<std::uint32_t>(1 + i * kMss), false));
  const Bytes pristine = packets[0];
  GroCoalescer gro(true);
  std::size_t writes = 0;
  for (auto _ : state) {
    std::copy(pristine.begin(), pristine.begin() + 40, packets[0].begin());
    gro.reset();
    for (auto& p : packets) gro.add(p);
    writes += gro.write_count();
    benchmark::DoNotOptimize(gro.write(0).data());
  }
  if (writes != static_cast<std::size_t>(state.iterations()))
    state.SkipWithError("segments did not merge into one write");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kSegments));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kSegments * (kMss + 40)));
}

BENCHMARK(BM_Checksum)->Arg(1500)->Arg(65536);
BENCHMARK(BM_SplitTso4)->Arg(1380);
BENCHMARK(BM_Coalesce44);

}  // namespace
}  // namespace squtun::tun
