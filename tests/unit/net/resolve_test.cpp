#include "net/resolve.h"

#include <unistd.h>

#include <stdexcept>

#include <gtest/gtest.h>

#include "fresh_netns.h"

namespace squtun::net {
namespace {

using base::Endpoint;

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

TEST(ParseAddress, LiteralsOnlyNeverALookup) {
  EXPECT_EQ(parse_address("198.18.0.1", 7777), Endpoint::v4({198, 18, 0, 1}, 7777));
  EXPECT_EQ(parse_address("2001:2::1"),
            Endpoint::v6({0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 0));
  EXPECT_EQ(parse_address("::ffff:198.18.0.1"), Endpoint::v4({198, 18, 0, 1}, 0));
  EXPECT_FALSE(parse_address("localhost"));
  EXPECT_FALSE(parse_address("peer.squtun.test"));
  EXPECT_FALSE(parse_address("[2001:2::1]"));
  EXPECT_FALSE(parse_address("198.18.0.1:7777"));
  EXPECT_FALSE(parse_address(""));
}

TEST(ParseAddress, EmbeddedNulIsNotAnAddress) {
  using namespace std::string_literals;
  EXPECT_FALSE(parse_address("127.0.0.1\0junk"s));
  EXPECT_FALSE(literal_family("2001:2::1\0"s));
  EXPECT_THROW(resolve_endpoint("127.0.0.1\0junk"s, 1), std::runtime_error);
}

TEST(ParseAddress, Ipv6LinkLocalKeepsItsInterface) {
  const auto ep = parse_address("fe80::1%lo", 7777);
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->family, Endpoint::Family::V6);
  EXPECT_EQ(ep->scope_id, 1u);  // lo is always interface 1
  EXPECT_EQ(ep->port, 7777);
}

TEST(LiteralFamily, AddressesHaveOneNamesNone) {
  EXPECT_EQ(literal_family("198.18.0.1"), Endpoint::Family::V4);
  EXPECT_EQ(literal_family("2001:2::1"), Endpoint::Family::V6);
  EXPECT_EQ(literal_family("::ffff:198.18.0.1"), Endpoint::Family::V4);
  EXPECT_FALSE(literal_family("peer.squtun.test"));
  EXPECT_FALSE(literal_family("localhost"));
}

TEST(ResolveEndpoint, FamilyRestrictsTheAnswer) {
  using F = Endpoint::Family;
  EXPECT_EQ(resolve_endpoint("198.18.0.1", 1, F::V4), Endpoint::v4({198, 18, 0, 1}, 1));
  EXPECT_EQ(resolve_endpoint("2001:2::1", 1, F::V6).family, F::V6);
  for (const auto& [host, family] : {std::pair{"198.18.0.1", F::V6}, std::pair{"2001:2::1", F::V4},
                                     std::pair{"::ffff:198.18.0.1", F::V6}}) {
    try {
      resolve_endpoint(host, 1, family);
      ADD_FAILURE() << host << " resolved in the other family";
    } catch (const std::runtime_error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(host), std::string::npos) << message;
      EXPECT_NE(message.find("-b"), std::string::npos) << message;
    }
  }
}

// In a fresh namespace "localhost" still resolves from /etc/hosts; asking for a family
// gives only that family's loopback.
TEST(ResolveEndpoint, NameResolvedInTheWantedFamily) {
  const Endpoint v4 = resolve_endpoint("localhost", 7777, Endpoint::Family::V4);
  EXPECT_EQ(v4, Endpoint::v4({127, 0, 0, 1}, 7777));
}

}  // namespace
}  // namespace squtun::net
