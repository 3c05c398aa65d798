#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace squtun::tun {

// The Internet checksum (RFC 1071). Sums are kept as host-order numbers of the big-endian
// 16-bit words, in 32 bits and not yet folded, so partial sums of adjacent pieces can be
// added with checksum_combine (a piece that starts at an odd offset must be summed with
// its neighbour instead: the words would straddle it).

// The ones'-complement sum of data (an odd last byte is the high half of a word) plus initial.
std::uint32_t checksum_add(std::span<const std::uint8_t> data, std::uint32_t initial = 0);

// memcpy(out, data) and checksum_add(data, initial) in one pass; out must not overlap data.
std::uint32_t checksum_copy(std::uint8_t* out, std::span<const std::uint8_t> data,
                            std::uint32_t initial = 0);

// a + b with the end-around carry.
constexpr std::uint32_t checksum_combine(std::uint32_t a, std::uint32_t b) {
  const std::uint64_t s = std::uint64_t{a} + b;
  return static_cast<std::uint32_t>((s & 0xffffffffu) + (s >> 32));
}

// Folds a sum to 16 bits, not complemented: what a CHECKSUM_PARTIAL checksum field holds.
constexpr std::uint16_t checksum_fold(std::uint32_t sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

// The value a checksum field holds: the complement of the folded sum.
constexpr std::uint16_t checksum_finish(std::uint32_t sum) {
  return static_cast<std::uint16_t>(~checksum_fold(sum));
}

inline std::uint16_t internet_checksum(std::span<const std::uint8_t> data) {
  return checksum_finish(checksum_add(data));
}

// Sums of the TCP/UDP pseudo-header (addresses, protocol, L4 length).
std::uint32_t pseudo_header_sum_v4(std::span<const std::uint8_t, 4> src, std::span<const std::uint8_t, 4> dst,
                                   std::uint8_t protocol, std::uint32_t l4_length);
std::uint32_t pseudo_header_sum_v6(std::span<const std::uint8_t, 16> src,
                                   std::span<const std::uint8_t, 16> dst, std::uint8_t protocol,
                                   std::uint32_t l4_length);

// A checksum field after one 16-bit word it covers changed from old_word to new_word
// (RFC 1624, equation 3), without summing the data again.
constexpr std::uint16_t checksum_replace16(std::uint16_t check, std::uint16_t old_word,
                                           std::uint16_t new_word) {
  const std::uint32_t sum =
      std::uint32_t{static_cast<std::uint16_t>(~check)} + static_cast<std::uint16_t>(~old_word) + new_word;
  return checksum_finish(sum);
}

}  // namespace squtun::tun
