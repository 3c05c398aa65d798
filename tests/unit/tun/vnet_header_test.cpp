#include "tun/vnet_header.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>

namespace squtun::tun {
namespace {

TEST(VnetHeaderTest, RoundTrip) {
  const VnetHeader h{kVnetFlagNeedsCsum, kGsoTcpV6, 86, 1380, 40, 16};
  std::array<std::uint8_t, kVnetHeaderSize> bytes{};
  write_vnet_header(h, bytes);
  const auto parsed = parse_vnet_header(bytes);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, h);
}

TEST(VnetHeaderTest, KernelLayoutInHostOrder) {
  const VnetHeader h{1, 5, 0x0102, 0x0304, 0x0506, 0x0708};
  std::array<std::uint8_t, kVnetHeaderSize> bytes{};
  write_vnet_header(h, bytes);
  EXPECT_EQ(bytes[0], 1);
  EXPECT_EQ(bytes[1], 5);
  const std::uint16_t fields[4] = {0x0102, 0x0304, 0x0506, 0x0708};
  for (int i = 0; i < 4; ++i) {
    std::uint16_t v;
    std::memcpy(&v, bytes.data() + 2 + 2 * i, 2);
    EXPECT_EQ(v, fields[i]) << i;
  }
}

TEST(VnetHeaderTest, ShortInputRefused) {
  const std::array<std::uint8_t, 9> nine{};
  EXPECT_FALSE(parse_vnet_header(nine).has_value());
  const std::array<std::uint8_t, 20> longer{};
  EXPECT_EQ(parse_vnet_header(longer), VnetHeader{});
}

}  // namespace
}  // namespace squtun::tun
