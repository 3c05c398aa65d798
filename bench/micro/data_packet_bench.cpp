// seal_packet and open_packet (ChaCha20-Poly1305 plus the 16-byte data header) at the inner
// sizes that matter: a minimal packet, a mid-sized one, a full 1420-byte MTU packet and a
// 9000-byte jumbo / small GSO super-packet. Bytes/s counts inner (plaintext) bytes.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "crypto/aead.h"
#include "protocol/constants.h"
#include "protocol/data_packet.h"
#include "protocol/session.h"

namespace squtun::protocol {
namespace {

crypto::Key key_of(std::uint8_t seed) {
  crypto::Key key;
  for (std::size_t i = 0; i < key.size(); ++i) key.data()[i] = static_cast<std::uint8_t>(seed * 31 + i);
  return key;
}

// Two ends of one session: what `sender` seals with its send key, `receiver` opens with its
// receive key (the same key), and the header carries the receiver's index.
struct SessionPair {
  Session sender{1, 2, SessionKeys{key_of(1), key_of(2)}, Role::Initiator, Duration{0}};
  Session receiver{2, 1, SessionKeys{key_of(2), key_of(1)}, Role::Responder, Duration{0}};
};

void fill(std::vector<std::uint8_t>& b) {
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(i * 7 + 3);
}

// Seals in place, as the daemon does: the inner packet sits after the header in its slot.
void BM_SealPacket(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  SessionPair s;
  crypto::AeadContext aead;
  std::vector<std::uint8_t> slot(size + kDataOverhead);
  fill(slot);
  const std::span<std::uint8_t> all(slot);
  std::uint64_t counter = 0;
  for (auto _ : state) {
    const std::size_t n = seal_packet(aead, s.sender, counter++, all.subspan(kDataHeaderSize, size), all);
    if (n != slot.size()) {
      state.SkipWithError("seal_packet failed");
      break;
    }
    benchmark::DoNotOptimize(slot.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// Opens one sealed message again and again into a separate buffer (opening in place would
// destroy the ciphertext; the work per byte is the same).
void BM_OpenPacket(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  SessionPair s;
  crypto::AeadContext aead;
  std::vector<std::uint8_t> message(size + kDataOverhead);
  fill(message);
  const std::span<std::uint8_t> all(message);
  if (seal_packet(aead, s.sender, 42, all.subspan(kDataHeaderSize, size), all) != message.size()) {
    state.SkipWithError("seal_packet failed");
    return;
  }
  std::vector<std::uint8_t> out(size);
  for (auto _ : state) {
    const auto n = open_packet(aead, s.receiver, message, out);
    if (!n || *n != size) {
      state.SkipWithError("open_packet failed");
      break;
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

BENCHMARK(BM_SealPacket)->ArgName("bytes")->Arg(64)->Arg(512)->Arg(1420)->Arg(9000);
BENCHMARK(BM_OpenPacket)->ArgName("bytes")->Arg(64)->Arg(512)->Arg(1420)->Arg(9000);

}  // namespace
}  // namespace squtun::protocol
