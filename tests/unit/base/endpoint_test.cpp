#include "base/endpoint.h"

#include <gtest/gtest.h>

namespace squtun::base {
namespace {

constexpr std::array<std::uint8_t, 16> kDocV6{0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0,
                                              0,    0,    0,    0,    0, 0, 0, 1};

TEST(EndpointValue, V4FormatsAsDottedQuadAndPort) {
  const Endpoint ep = Endpoint::v4({198, 18, 0, 1}, 7777);
  EXPECT_EQ(ep.family, Endpoint::Family::V4);
  EXPECT_TRUE(ep.valid());
  EXPECT_EQ(ep.to_string(), "198.18.0.1:7777");
}

TEST(EndpointValue, V6FormatsInBrackets) {
  EXPECT_EQ(Endpoint::v6(kDocV6, 7777).to_string(), "[2001:2::1]:7777");
}

TEST(EndpointValue, V6WithScopeShowsIt) {
  const std::array<std::uint8_t, 16> link_local{0xfe, 0x80, 0, 0, 0, 0, 0, 0,
                                                0,    0,    0, 0, 0, 0, 0, 1};
  EXPECT_EQ(Endpoint::v6(link_local, 51820, 3).to_string(), "[fe80::1%3]:51820");
}

TEST(EndpointValue, V4MappedV6IsStoredAsV4) {
  const std::array<std::uint8_t, 16> mapped{0, 0, 0,    0,    0,   0,  0, 0,
                                            0, 0, 0xff, 0xff, 198, 18, 0, 1};
  const Endpoint ep = Endpoint::v6(mapped, 7777, 5);
  EXPECT_EQ(ep.family, Endpoint::Family::V4);
  EXPECT_EQ(ep, Endpoint::v4({198, 18, 0, 1}, 7777));
  EXPECT_EQ(ep.to_string(), "198.18.0.1:7777");
}

TEST(EndpointValue, EqualityComparesEveryField) {
  const Endpoint base = Endpoint::v4({10, 0, 0, 1}, 1000);
  EXPECT_EQ(base, Endpoint::v4({10, 0, 0, 1}, 1000));
  EXPECT_NE(base, Endpoint::v4({10, 0, 0, 2}, 1000));
  EXPECT_NE(base, Endpoint::v4({10, 0, 0, 1}, 1001));
  EXPECT_NE(Endpoint::v6(kDocV6, 1000), Endpoint::v6(kDocV6, 1000, 2));
}

TEST(EndpointValue, DefaultIsInvalid) {
  const Endpoint none;
  EXPECT_FALSE(none.valid());
  EXPECT_FALSE(none.to_string().empty());
}

}  // namespace
}  // namespace squtun::base
