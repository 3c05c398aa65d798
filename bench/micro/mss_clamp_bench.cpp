// MssClamp::apply, per packet, as the data path calls it on every packet both ways: a
// full-sized TCP data segment (not a SYN: the common case, which must cost next to nothing)
// and a SYN whose MSS it lowers (parse, rewrite, checksum update).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "base/byte_order.h"
#include "tun/checksum.h"
#include "tun/mss_clamp.h"

namespace squtun::tun {
namespace {

using Bytes = std::vector<std::uint8_t>;
constexpr std::size_t kTunnelMtu = 1420;
constexpr std::size_t kChecksumAt = 36;

// An IPv4 TCP segment with `flags`, as Linux sends a SYN's options (mss 1460, sackOK,
// timestamps, nop, wscale), with `payload` bytes after them; checksums complete.
Bytes tcp4(std::uint8_t flags, std::size_t payload) {
  const std::uint8_t head[60] = {
      0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,                // IPv4
      0x9c, 0x40, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0, 0xa0, flags, 0xfa, 0xf0, 0, 0, 0, 0,  // TCP
      2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};                   // options
  Bytes p(sizeof head + payload, 0x5a);
  std::copy(head, head + sizeof head, p.begin());
  base::store_be16(&p[2], static_cast<std::uint16_t>(p.size()));
  base::store_be16(&p[10], internet_checksum({p.data(), 20}));
  std::uint8_t pseudo[12] = {10, 0, 0, 1, 10, 0, 0, 2, 0, 6};
  base::store_be16(&pseudo[10], static_cast<std::uint16_t>(p.size() - 20));
  base::store_be16(&p[kChecksumAt],
                   checksum_finish(checksum_add({&p[20], p.size() - 20}, checksum_add(pseudo))));
  return p;
}

void BM_MssClampNotSyn(benchmark::State& state) {
  const MssClamp clamp(kTunnelMtu);
  Bytes packet = tcp4(0x10, kTunnelMtu - 60);  // ACK with data
  for (auto _ : state) benchmark::DoNotOptimize(clamp.apply(packet));
}

// The clamp rewrites the SYN, so each round puts the original MSS and checksum back.
void BM_MssClampSyn(benchmark::State& state) {
  const MssClamp clamp(kTunnelMtu);
  Bytes packet = tcp4(0x02, 0);
  const Bytes pristine = packet;
  for (auto _ : state) {
    if (!clamp.apply(packet)) state.SkipWithError("the SYN was not clamped");
    std::copy_n(&pristine[kChecksumAt], 8, &packet[kChecksumAt]);
    benchmark::ClobberMemory();
  }
}

BENCHMARK(BM_MssClampNotSyn);
BENCHMARK(BM_MssClampSyn);

}  // namespace
}  // namespace squtun::tun
