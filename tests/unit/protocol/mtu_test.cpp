#include "protocol/mtu.h"

#include <gtest/gtest.h>

#include "protocol/constants.h"

namespace squtun::protocol {
namespace {

TEST(MtuTest, Overheads) {
  EXPECT_EQ(encapsulation_overhead(UnderlayFamily::V4), 20u + 8u + kDataOverhead);
  EXPECT_EQ(encapsulation_overhead(UnderlayFamily::V6), 40u + 8u + kDataOverhead);
  EXPECT_EQ(encapsulation_overhead(UnderlayFamily::V4), 60u);
  EXPECT_EQ(encapsulation_overhead(UnderlayFamily::V6), 80u);
}

TEST(MtuTest, Ethernet) {
  EXPECT_EQ(inner_mtu(1500, UnderlayFamily::V4), 1440u);
  EXPECT_EQ(inner_mtu(1500, UnderlayFamily::V6), 1420u);
  EXPECT_EQ(inner_mtu(9000, UnderlayFamily::V4), 8940u);
  EXPECT_EQ(inner_mtu(1280, UnderlayFamily::V6), 1200u);
}

TEST(MtuTest, SmallestUsable) {
  EXPECT_EQ(inner_mtu(128, UnderlayFamily::V4), kMinInnerMtu);
  EXPECT_FALSE(inner_mtu(127, UnderlayFamily::V4));
  EXPECT_EQ(inner_mtu(148, UnderlayFamily::V6), kMinInnerMtu);
  EXPECT_FALSE(inner_mtu(147, UnderlayFamily::V6));
  // V4's minimum is too small for V6.
  EXPECT_FALSE(inner_mtu(128, UnderlayFamily::V6));
}

TEST(MtuTest, OfThePathTheSmallerOfDeviceAndRoute) {
  EXPECT_EQ(inner_mtu_of_path(1500, std::nullopt, UnderlayFamily::V4, Payload::IpPacket), 1440u);
  EXPECT_EQ(inner_mtu_of_path(1500, std::nullopt, UnderlayFamily::V6, Payload::IpPacket), 1420u);
  EXPECT_EQ(inner_mtu_of_path(1500, 1400, UnderlayFamily::V4, Payload::IpPacket), 1340u);
  EXPECT_EQ(inner_mtu_of_path(1400, 9000, UnderlayFamily::V4, Payload::IpPacket), 1340u);
  EXPECT_EQ(inner_mtu_of_path(9000, std::nullopt, UnderlayFamily::V6, Payload::EthernetFrame), 8906u);
  EXPECT_FALSE(inner_mtu_of_path(1500, 100, UnderlayFamily::V4, Payload::IpPacket));
  EXPECT_FALSE(inner_mtu_of_path(0, std::nullopt, UnderlayFamily::V6, Payload::IpPacket));
}

TEST(MtuTest, TooSmall) {
  for (std::size_t mtu : {0u, 1u, 59u, 60u, 67u, 68u, 80u, 100u}) {
    EXPECT_FALSE(inner_mtu(mtu, UnderlayFamily::V4)) << mtu;
    EXPECT_FALSE(inner_mtu(mtu, UnderlayFamily::V6)) << mtu;
  }
}

TEST(MtuTest, Largest) {
  EXPECT_EQ(inner_mtu(65535, UnderlayFamily::V4), 65475u);
  EXPECT_EQ(inner_mtu(65535, UnderlayFamily::V6), 65455u);
  EXPECT_FALSE(inner_mtu(65536, UnderlayFamily::V4));
  EXPECT_FALSE(inner_mtu(65536, UnderlayFamily::V6));
  EXPECT_FALSE(inner_mtu(1'000'000, UnderlayFamily::V4));
  EXPECT_FALSE(inner_mtu(static_cast<std::size_t>(-1), UnderlayFamily::V4));
  // The largest inner MTU over IPv4 fits the largest inner packet the protocol carries.
  EXPECT_LE(*inner_mtu(65535, UnderlayFamily::V4), kMaxInnerPacket);
}

TEST(MtuTest, SealedPacketFitsTheUnderlay) {
  for (std::size_t mtu = 128; mtu <= 65535; mtu += 97) {
    const auto inner = inner_mtu(mtu, UnderlayFamily::V4);
    ASSERT_TRUE(inner) << mtu;
    EXPECT_EQ(*inner + kDataOverhead + 8 + 20, mtu);
  }
}

}  // namespace
}  // namespace squtun::protocol

namespace squtun::protocol {
namespace {

TEST(MtuTest, TapFramesCarryTheEthernetHeader) {
  EXPECT_EQ(encapsulation_overhead(UnderlayFamily::V4, Payload::EthernetFrame), 74u);
  EXPECT_EQ(inner_mtu(1500, UnderlayFamily::V4, Payload::EthernetFrame), 1426u);
  EXPECT_EQ(inner_mtu(1500, UnderlayFamily::V6, Payload::EthernetFrame), 1406u);
}

}  // namespace
}  // namespace squtun::protocol
