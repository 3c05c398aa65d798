#include "daemon/staged_packets.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace squtun::daemon {
namespace {

using protocol::DropReason;
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

std::uint64_t total_drops(const protocol::Counters& counters) {
  std::uint64_t n = 0;
  for (const auto& d : counters.drops) n += d.load();
  return n;
}

class StagedPacketsTest : public ::testing::Test {
 protected:
  net::DatagramBatch batch{64, 4096};
  protocol::Counters counters;
  StagedPackets staged{counters};
};

TEST_F(StagedPacketsTest, ReleasesWhatItHeldInOrder) {
  fill(batch, 3, 100, 7);
  EXPECT_EQ(staged.hold(batch, seconds(10), DropReason::NoSession), 3u);
  fill(batch, 2, 60, 20);
  EXPECT_EQ(staged.hold(batch, seconds(11), DropReason::NoSession), 2u);
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
  EXPECT_EQ(total_drops(counters), 0u);  // held, then sent: never dropped
}

TEST_F(StagedPacketsTest, BoundedInCountAndPacketSize) {
  fill(batch, 40, 100);
  EXPECT_EQ(staged.hold(batch, seconds(1), DropReason::NoSession), StagedPackets::kCapacity);
  fill(batch, 1, 100);
  EXPECT_EQ(staged.hold(batch, seconds(1), DropReason::NoSession), 0u);
  StagedPackets other(counters);
  fill(batch, 2, StagedPackets::kMaxPacket + 1);
  EXPECT_EQ(other.hold(batch, seconds(1), DropReason::NoPeer), 0u);
  // What it cannot hold is dropped, for the reason it was not sent.
  EXPECT_EQ(counters.dropped(DropReason::NoSession), 40 - StagedPackets::kCapacity + 1);
  EXPECT_EQ(counters.dropped(DropReason::NoPeer), 2u);
}

TEST_F(StagedPacketsTest, StalePacketsAreDropped) {
  fill(batch, 1, 100, 1);
  staged.hold(batch, seconds(1), DropReason::NoPeer);
  fill(batch, 1, 100, 2);
  staged.hold(batch, seconds(4), DropReason::NoSession);
  ASSERT_EQ(staged.release(batch, seconds(1) + StagedPackets::kMaxAge + seconds(1)), 1u);
  EXPECT_EQ(batch.slot(0)[kDataHeaderSize], 2);
  EXPECT_EQ(counters.dropped(DropReason::NoSession), 1u);  // no session came up in time
  EXPECT_EQ(total_drops(counters), 1u);
}

}  // namespace
}  // namespace squtun::daemon
