#include "net/resolve.h"

#include <unistd.h>

#include <stdexcept>

#include <gtest/gtest.h>

#include "fresh_netns.h"

namespace squtun::net {
namespace {

using protocol::Endpoint;

TEST(ResolveEndpoint, Ipv4Literal) {
  EXPECT_EQ(resolve_endpoint("198.18.0.1", 7777), Endpoint::v4({198, 18, 0, 1}, 7777));
}

TEST(ResolveEndpoint, Ipv6Literal) {
  const Endpoint expected =
      Endpoint::v6({0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 7777);
  EXPECT_EQ(resolve_endpoint("2001:2::1", 7777), expected);
}

TEST(ResolveEndpoint, V4MappedLiteralBecomesV4) {
  EXPECT_EQ(resolve_endpoint("::ffff:198.18.0.1", 1), Endpoint::v4({198, 18, 0, 1}, 1));
}

TEST(ResolveEndpoint, LocalhostIsLoopback) {
  const Endpoint ep = resolve_endpoint("localhost", 7777);
  const Endpoint v6_loopback =
      Endpoint::v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 7777);
  EXPECT_TRUE(ep == Endpoint::v4({127, 0, 0, 1}, 7777) || ep == v6_loopback) << ep.to_string();
}

TEST(ResolveEndpoint, EmptyHostThrows) {
  EXPECT_THROW(resolve_endpoint("", 7777), std::runtime_error);
}

std::string expect_unresolvable(const std::string& host) {
  try {
    resolve_endpoint(host, 7777);
    return "resolved " + host + " unexpectedly";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    if (message.find("'" + host + "'") == std::string::npos) {
      return "message does not name the host: " + message;
    }
    return "";
  }
}

// A name that reaches DNS would send a query to the host's resolver; inside an empty
// network namespace that query has nowhere to go.
TEST(ResolveEndpoint, UnresolvableNameThrowsNamingTheHost) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a private network namespace";
  EXPECT_EQ(test::run_in_fresh_netns([] { return expect_unresolvable("no-such-host.invalid"); }),
            "");
}

TEST(Ipv6Literal, RecognisesOnlyIpv6Addresses) {
  EXPECT_TRUE(is_ipv6_literal("2001:2::1"));
  EXPECT_TRUE(is_ipv6_literal("::1"));
  EXPECT_TRUE(is_ipv6_literal("::ffff:198.18.0.1"));
  EXPECT_FALSE(is_ipv6_literal("198.18.0.1"));
  EXPECT_FALSE(is_ipv6_literal("localhost"));
  EXPECT_FALSE(is_ipv6_literal("[2001:2::1]"));
  EXPECT_FALSE(is_ipv6_literal(""));
}

}  // namespace
}  // namespace squtun::net
