#include "daemon/staged_packets.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace squtun::daemon {
namespace {

using protocol::kDataHeaderSize;
using std::chrono::seconds;

// Puts `count` inner packets of `size` bytes, filled with their index, into the batch.
void fill(net::DatagramBatch& batch, std::size_t count, std::size_t size, std::uint8_t first = 0) {
  for (std::size_t i = 0; i < count; ++i) {
    auto inner = batch.slot(i).subspan(kDataHeaderSize, size);
    std::fill(inner.begin(), inner.end(), static_cast<std::uint8_t>(first + i));
    batch.length(i) = size;
  }
  batch.set_count(count);
}

TEST(StagedPacketsTest, ReleasesWhatItHeldInOrder) {
  net::DatagramBatch batch(64, 4096);
  StagedPackets staged;
  fill(batch, 3, 100, 7);
  EXPECT_EQ(staged.hold(batch, seconds(10)), 3u);
  fill(batch, 2, 60, 20);
  EXPECT_EQ(staged.hold(batch, seconds(11)), 2u);
  batch.set_count(0);
  ASSERT_EQ(staged.release(batch, seconds(12)), 5u);
  ASSERT_EQ(batch.count(), 5u);
  const std::uint8_t expected_first_byte[] = {7, 8, 9, 20, 21};
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(batch.length(i), i < 3 ? 100u : 60u);
    EXPECT_EQ(batch.slot(i)[kDataHeaderSize], expected_first_byte[i]);
  }
  EXPECT_EQ(staged.size(), 0u);
  EXPECT_EQ(staged.release(batch, seconds(13)), 0u);
}

TEST(StagedPacketsTest, BoundedInCountAndPacketSize) {
  net::DatagramBatch batch(64, 4096);
  StagedPackets staged;
  fill(batch, 40, 100);
  EXPECT_EQ(staged.hold(batch, seconds(1)), StagedPackets::kCapacity);
  fill(batch, 1, 100);
  EXPECT_EQ(staged.hold(batch, seconds(1)), 0u);
  StagedPackets other;
  fill(batch, 2, StagedPackets::kMaxPacket + 1);
  EXPECT_EQ(other.hold(batch, seconds(1)), 0u);
}

TEST(StagedPacketsTest, StalePacketsAreDropped) {
  net::DatagramBatch batch(64, 4096);
  StagedPackets staged;
  fill(batch, 1, 100, 1);
  staged.hold(batch, seconds(1));
  fill(batch, 1, 100, 2);
  staged.hold(batch, seconds(4));
  ASSERT_EQ(staged.release(batch, seconds(1) + StagedPackets::kMaxAge + seconds(1)), 1u);
  EXPECT_EQ(batch.slot(0)[kDataHeaderSize], 2);
}

}  // namespace
}  // namespace squtun::daemon
