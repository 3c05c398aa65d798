#include "netlink/cidr.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace squtun::netlink {
namespace {

std::string refusal(const std::string& text, HostBits host_bits = HostBits::Allowed) {
  try {
    parse_cidr(text, host_bits);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(CidrTest, IPv4AddressWithHostBits) {
  const Cidr cidr = parse_cidr("10.99.0.1/30", HostBits::Allowed);
  EXPECT_EQ(cidr.address.family, base::Endpoint::Family::V4);
  EXPECT_EQ(cidr.address.address[0], 10);
  EXPECT_EQ(cidr.address.address[3], 1);
  EXPECT_EQ(cidr.prefix, 30u);
  EXPECT_EQ(cidr.to_string(), "10.99.0.1/30");
}

TEST(CidrTest, IPv6AddressesAsWrittenNormalised) {
  EXPECT_EQ(parse_cidr("fd00:0::1/64", HostBits::Allowed).to_string(), "fd00::1/64");
  EXPECT_EQ(parse_cidr("fd00::/8", HostBits::Refused).address.family, base::Endpoint::Family::V6);
  // An IPv4-mapped address stays IPv6: its prefix counts 128 bits.
  EXPECT_EQ(parse_cidr("::ffff:10.0.0.1/120", HostBits::Allowed).address.family,
            base::Endpoint::Family::V6);
}

TEST(CidrTest, PrefixBoundaries) {
  EXPECT_EQ(parse_cidr("0.0.0.0/0", HostBits::Refused).prefix, 0u);
  EXPECT_EQ(parse_cidr("10.0.0.1/32", HostBits::Refused).prefix, 32u);
  EXPECT_EQ(parse_cidr("::/0", HostBits::Refused).prefix, 0u);
  EXPECT_EQ(parse_cidr("fd00::1/128", HostBits::Refused).prefix, 128u);
  EXPECT_NE(refusal("10.0.0.1/33").find("0 to 32"), std::string::npos);
  EXPECT_NE(refusal("fd00::1/129").find("0 to 128"), std::string::npos);
  for (const char* bad :
       {"10.0.0.1/", "10.0.0.1/-1", "10.0.0.1/8x", "10.0.0.1/ 8", "10.0.0.1/99999999999"})
    EXPECT_NE(refusal(bad).find("prefix length"), std::string::npos) << bad;
}

TEST(CidrTest, WhatIsNoCidr) {
  EXPECT_NE(refusal("10.0.0.1").find("no /PREFIX"), std::string::npos);
  EXPECT_NE(refusal("").find("no /PREFIX"), std::string::npos);
  for (const char* bad :
       {"host.example/24", "10.0.0/24", "10.0.0.256/24", "fd00:::1/64", "/24", " 10.0.0.1/24"})
    EXPECT_NE(refusal(bad).find("is not an IPv4 or IPv6 address"), std::string::npos) << bad;
}

TEST(CidrTest, ANetworkHasNoHostBits) {
  EXPECT_NE(refusal("10.77.0.1/24", HostBits::Refused).find("beyond the prefix"),
            std::string::npos);
  EXPECT_NE(refusal("fd00::1/64", HostBits::Refused).find("beyond the prefix"), std::string::npos);
  EXPECT_NE(refusal("10.77.0.128/24", HostBits::Refused), "");
  EXPECT_EQ(refusal("10.77.0.128/25", HostBits::Refused), "");
  EXPECT_EQ(parse_cidr("10.77.0.0/24", HostBits::Refused).to_string(), "10.77.0.0/24");
}

}  // namespace
}  // namespace squtun::netlink
