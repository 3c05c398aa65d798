#include <gtest/gtest.h>

#include "daemon/tunnel.h"

namespace squtun::daemon {
namespace {

using Sharing = OrderedPipeline::Sharing;

TEST(TunnelSharingTest, ABatchOfFullSizedPacketsGoesToTheWorkers) {
  EXPECT_EQ(Tunnel::sharing(64, 64 * 1452), Sharing::WithWorkers);
  EXPECT_EQ(Tunnel::sharing(12, 12 * 1452), Sharing::WithWorkers);  // 17,424 bytes
}

TEST(TunnelSharingTest, ASmallBatchStaysWithTheReadingThread) {
  EXPECT_EQ(Tunnel::sharing(11, 11 * 1452), Sharing::CallerOnly);  // 15,972 bytes
  EXPECT_EQ(Tunnel::sharing(1, 1452), Sharing::CallerOnly);
}

TEST(TunnelSharingTest, SmallPacketsStayWithTheReadingThreadHoweverMany) {
  // A receiving batch of GRO trains can hold thousands of 64-byte datagrams.
  EXPECT_EQ(Tunnel::sharing(64, 64 * 96), Sharing::CallerOnly);
  EXPECT_EQ(Tunnel::sharing(2048, 2048 * 96), Sharing::CallerOnly);
  EXPECT_EQ(Tunnel::sharing(2048, 2048 * (Tunnel::kMinSharedAverage - 1)), Sharing::CallerOnly);
  EXPECT_EQ(Tunnel::sharing(2048, 2048 * Tunnel::kMinSharedAverage), Sharing::WithWorkers);
}

}  // namespace
}  // namespace squtun::daemon
