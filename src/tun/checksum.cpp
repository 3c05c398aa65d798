#include "tun/checksum.h"

#include <bit>
#include <cstring>

namespace squtun::tun {
namespace {

using Wide = unsigned __int128;

std::uint64_t load64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Sums native-order 64-bit words. Since 2^16 = 1 modulo 2^16 - 1, a wide sum of wide words
// folds to the 16-bit ones'-complement sum, and byte order only swaps the folded result
// (RFC 1071 section 2). Two 128-bit accumulators keep two add/adc chains in flight.
std::uint64_t sum_native(const std::uint8_t* p, std::size_t n) {
  Wide a = 0, b = 0;
  for (; n >= 64; p += 64, n -= 64) {
    a += load64(p);
    b += load64(p + 8);
    a += load64(p + 16);
    b += load64(p + 24);
    a += load64(p + 32);
    b += load64(p + 40);
    a += load64(p + 48);
    b += load64(p + 56);
  }
  for (; n >= 8; p += 8, n -= 8) a += load64(p);
  std::uint64_t tail = 0;
  std::memcpy(&tail, p, n);  // the zero padding of an odd last byte comes for free
  b += tail;
  const Wide s = a + b;  // each below 2^64 * 2^58 here: no overflow
  const std::uint64_t lo = static_cast<std::uint64_t>(s);
  const std::uint64_t hi = static_cast<std::uint64_t>(s >> 64);
  const std::uint64_t t = lo + hi;
  return t + (t < lo);
}

std::uint16_t fold64(std::uint64_t s) {
  s = (s & 0xffffffffu) + (s >> 32);
  s = (s & 0xffffffffu) + (s >> 32);
  return checksum_fold(static_cast<std::uint32_t>(s));
}

std::uint32_t sum_words(const std::uint8_t* p, std::size_t words) {
  std::uint32_t s = 0;
  for (std::size_t i = 0; i < words; ++i) s += static_cast<std::uint32_t>(p[2 * i] << 8 | p[2 * i + 1]);
  return s;
}

std::uint32_t length_sum(std::uint8_t protocol, std::uint32_t l4_length) {
  return std::uint32_t{protocol} + (l4_length >> 16) + (l4_length & 0xffff);
}

}  // namespace

std::uint32_t checksum_add(std::span<const std::uint8_t> data, std::uint32_t initial) {
  std::uint16_t folded = fold64(sum_native(data.data(), data.size()));
  if constexpr (std::endian::native == std::endian::little) {
    folded = static_cast<std::uint16_t>(folded << 8 | folded >> 8);
  }
  return checksum_combine(folded, initial);
}

std::uint32_t pseudo_header_sum_v4(std::span<const std::uint8_t, 4> src, std::span<const std::uint8_t, 4> dst,
                                   std::uint8_t protocol, std::uint32_t l4_length) {
  return sum_words(src.data(), 2) + sum_words(dst.data(), 2) + length_sum(protocol, l4_length);
}

std::uint32_t pseudo_header_sum_v6(std::span<const std::uint8_t, 16> src,
                                   std::span<const std::uint8_t, 16> dst, std::uint8_t protocol,
                                   std::uint32_t l4_length) {
  return sum_words(src.data(), 8) + sum_words(dst.data(), 8) + length_sum(protocol, l4_length);
}

}  // namespace squtun::tun
