#include "tun/checksum.h"

#include <bit>
#include <cstring>

namespace squtun::tun {
namespace {

// Sums native-order 32-bit words in 64 bits (no carries to propagate, so compilers
// vectorise it). Since 2^16 = 1 modulo 2^16 - 1, a wide sum of wide words folds to the
// 16-bit ones'-complement sum, and byte order only swaps the folded result (RFC 1071
// section 2). When copying, each word read is also stored at out: one pass over the bytes.
template <bool kCopy>
std::uint32_t sum_native(const std::uint8_t* p, std::size_t n, std::uint8_t* out,
                         std::uint32_t initial) {
  std::uint64_t sum = 0;
  std::size_t i = 0;
  for (; n - i >= 4; i += 4) {
    std::uint32_t word;
    std::memcpy(&word, p + i, sizeof word);
    if constexpr (kCopy) std::memcpy(out + i, &word, sizeof word);
    sum += word;
  }
  std::uint32_t tail = 0;
  std::memcpy(&tail, p + i, n - i);  // the zero padding of an odd last byte comes for free
  if constexpr (kCopy) std::memcpy(out + i, &tail, n - i);
  sum += tail;
  sum = (sum & 0xffffffffu) + (sum >> 32);
  sum = (sum & 0xffffffffu) + (sum >> 32);
  std::uint16_t folded = checksum_fold(static_cast<std::uint32_t>(sum));
  if constexpr (std::endian::native == std::endian::little) {
    folded = static_cast<std::uint16_t>(folded << 8 | folded >> 8);
  }
  return checksum_combine(folded, initial);
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
  return sum_native<false>(data.data(), data.size(), nullptr, initial);
}

std::uint32_t checksum_copy(std::uint8_t* out, std::span<const std::uint8_t> data,
                            std::uint32_t initial) {
  return sum_native<true>(data.data(), data.size(), out, initial);
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
