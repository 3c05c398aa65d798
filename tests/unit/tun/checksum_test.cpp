#include "tun/checksum.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "offload_packets.h"

namespace squtun::tun {
namespace {

using testing::Bytes;
using testing::ref_checksum;

Bytes random_bytes(std::size_t n, std::mt19937& rng) {
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

TEST(ChecksumTest, Rfc1071Example) {
  // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
  const Bytes data{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(checksum_fold(checksum_add(data)), 0xddf2);
  EXPECT_EQ(internet_checksum(data), static_cast<std::uint16_t>(~0xddf2));
}

TEST(ChecksumTest, MatchesReferenceAtEveryLengthAndAlignment) {
  std::mt19937 rng(1071);
  const Bytes big = random_bytes(400, rng);
  for (std::size_t offset = 0; offset < 9; ++offset) {
    for (std::size_t n = 0; n + offset <= big.size(); ++n) {
      const std::span<const std::uint8_t> s(big.data() + offset, n);
      ASSERT_EQ(internet_checksum(s), ref_checksum(s)) << "offset " << offset << " length " << n;
    }
  }
}

TEST(ChecksumTest, AllOnesAndLargeBuffers) {
  for (const std::size_t n : {1500u, 9000u, 65536u, 65535u}) {
    const Bytes ones(n, 0xff);
    EXPECT_EQ(internet_checksum(ones), ref_checksum(ones)) << n;
    std::mt19937 rng(static_cast<unsigned>(n));
    const Bytes r = random_bytes(n, rng);
    EXPECT_EQ(internet_checksum(r), ref_checksum(r)) << n;
  }
}

TEST(ChecksumTest, InitialSumIsAdded) {
  std::mt19937 rng(7);
  const Bytes data = random_bytes(101, rng);
  for (const std::uint32_t initial : {0u, 1u, 0xffffu, 0x1234567u, 0xfffffffeu}) {
    EXPECT_EQ(checksum_finish(checksum_add(data, initial)), ref_checksum(data, initial)) << initial;
  }
}

TEST(ChecksumTest, PiecesCombineWhenEvenLength) {
  std::mt19937 rng(8);
  const Bytes data = random_bytes(1000, rng);
  const std::span<const std::uint8_t> s(data);
  const std::uint32_t parts = checksum_combine(checksum_add(s.first(334)), checksum_add(s.subspan(334)));
  EXPECT_EQ(checksum_finish(parts), ref_checksum(data));
  EXPECT_EQ(checksum_finish(checksum_add(s.subspan(334), checksum_add(s.first(334)))), ref_checksum(data));
}

// checksum_copy from and to offsets 0..7 (every misalignment of its word loads and stores):
// the copy is exact, nothing around it is written, and the sum, with an initial sum, is
// checksum_add's over the copied bytes, bit for bit, and agrees with the reference.
void expect_copy_matches_add(const Bytes& source, std::size_t n) {
  constexpr std::uint8_t kGuard = 0xa5;
  for (std::size_t from = 0; from < 8; ++from) {
    for (std::size_t to = 0; to < 8; ++to) {
      const std::span<const std::uint8_t> in(source.data() + from, n);
      Bytes out(to + n + 8, kGuard);
      const std::uint32_t initial = static_cast<std::uint32_t>(n * 0x10001 + from);
      const std::uint32_t sum = checksum_copy(out.data() + to, in, initial);
      const std::span<const std::uint8_t> copied(out.data() + to, n);
      ASSERT_TRUE(std::equal(in.begin(), in.end(), copied.begin())) << n << " " << from << " " << to;
      const Bytes before(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(to));
      const Bytes after(out.end() - 8, out.end());
      ASSERT_EQ(before, Bytes(to, kGuard)) << n << " " << from << " " << to;
      ASSERT_EQ(after, Bytes(8, kGuard)) << n << " " << from << " " << to;
      ASSERT_EQ(sum, checksum_add(copied, initial)) << n << " " << from << " " << to;
      ASSERT_EQ(checksum_finish(sum), ref_checksum(in, initial)) << n << " " << from << " " << to;
    }
  }
}

TEST(ChecksumTest, CopyAndSumMatchesMemcpyThenSum) {
  std::mt19937 rng(1141);
  const Bytes source = random_bytes(65536 + 8, rng);
  for (std::size_t n = 0; n <= 100; ++n) expect_copy_matches_add(source, n);
  for (std::size_t n = 1400; n <= 1520; ++n) expect_copy_matches_add(source, n);
  for (const std::size_t n : {9000u, 65535u, 65536u}) expect_copy_matches_add(source, n);
}

TEST(ChecksumTest, CopyAndSumOfAllOnes) {
  // The largest words; at even lengths the sum is ones' complement's other zero, 0xffff.
  for (const std::size_t n : {7u, 64u, 1501u, 65535u}) {
    const Bytes ones(n, 0xff);
    Bytes out(n);
    EXPECT_EQ(checksum_copy(out.data(), ones, 0xffff), checksum_add(ones, 0xffff)) << n;
    EXPECT_EQ(out, ones);
  }
}

TEST(ChecksumTest, ValidDataSumsToZero) {
  std::mt19937 rng(9);
  Bytes data = random_bytes(64, rng);
  data[10] = data[11] = 0;
  const std::uint16_t c = internet_checksum(data);
  data[10] = static_cast<std::uint8_t>(c >> 8);
  data[11] = static_cast<std::uint8_t>(c);
  EXPECT_EQ(internet_checksum(data), 0);
}

TEST(ChecksumTest, IncrementalUpdatesMatchRecomputation) {
  std::mt19937 rng(1624);
  for (int round = 0; round < 2000; ++round) {
    Bytes data = random_bytes(40, rng);
    const std::uint16_t before = internet_checksum(data);
    const std::uint32_t old_word = testing::get32(data, 8);
    const std::uint32_t new_word = static_cast<std::uint32_t>(rng());
    for (int i = 0; i < 4; ++i) data[8 + i] = static_cast<std::uint8_t>(new_word >> (24 - 8 * i));
    const std::uint16_t after = internet_checksum(data);
    const std::uint16_t updated = checksum_replace16(
        checksum_replace16(before, static_cast<std::uint16_t>(old_word >> 16), static_cast<std::uint16_t>(new_word >> 16)),
        static_cast<std::uint16_t>(old_word), static_cast<std::uint16_t>(new_word));
    // 0x0000 and 0xffff are the same ones'-complement number.
    EXPECT_EQ(checksum_fold(static_cast<std::uint16_t>(~updated)),
              checksum_fold(static_cast<std::uint16_t>(~after)));
    const std::uint16_t w16 = testing::get16(data, 8);
    EXPECT_EQ(checksum_replace16(after, w16, w16) % 0xffff, after % 0xffff);
  }
}

TEST(ChecksumTest, PseudoHeaderSums) {
  testing::Spec s;
  s.src = {192, 168, 1, 200};
  s.dst = {8, 8, 4, 4};
  const Bytes p4 = testing::build(s, testing::payload_bytes(30));
  const std::uint32_t v4 = pseudo_header_sum_v4(std::span<const std::uint8_t, 4>(p4.data() + 12, 4),
                                                std::span<const std::uint8_t, 4>(p4.data() + 16, 4), 6, 50);
  EXPECT_EQ(checksum_fold(v4), testing::ref_pseudo_sum(p4, 50));
  const Bytes p6 = testing::build(testing::v6_spec(true), testing::payload_bytes(30));
  const std::uint32_t v6 =
      pseudo_header_sum_v6(std::span<const std::uint8_t, 16>(p6.data() + 8, 16),
                           std::span<const std::uint8_t, 16>(p6.data() + 24, 16), 17, 70000);
  EXPECT_EQ(checksum_fold(v6),
            checksum_fold(static_cast<std::uint32_t>(testing::ref_pseudo_sum(p6, 70000 - 65536)) + 1));
}

}  // namespace
}  // namespace squtun::tun
