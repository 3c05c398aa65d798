#include "net/sockaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include <gtest/gtest.h>

namespace squtun::net {
namespace {

using base::Endpoint;

const Endpoint kV4 = Endpoint::v4({198, 18, 0, 1}, 7777);
const Endpoint kV6 = Endpoint::v6({0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
                                  7777);

sockaddr_in6 as_v6(const sockaddr_storage& storage) {
  sockaddr_in6 sin6;
  std::memcpy(&sin6, &storage, sizeof sin6);
  return sin6;
}

std::string v6_text(const sockaddr_in6& sin6) {
  char text[INET6_ADDRSTRLEN];
  return ::inet_ntop(AF_INET6, &sin6.sin6_addr, text, sizeof text);
}

TEST(SockaddrConversion, V4OnV4SocketIsAfInet) {
  sockaddr_storage storage;
  ASSERT_EQ(sockaddr_from_endpoint(kV4, false, storage), sizeof(sockaddr_in));
  sockaddr_in sin;
  std::memcpy(&sin, &storage, sizeof sin);
  EXPECT_EQ(sin.sin_family, AF_INET);
  EXPECT_EQ(ntohs(sin.sin_port), 7777);
  EXPECT_EQ(ntohl(sin.sin_addr.s_addr), 0xc6120001u);
  EXPECT_EQ(endpoint_from_sockaddr(storage), kV4);
}

TEST(SockaddrConversion, V4OnDualStackSocketIsV4MappedAndComesBackAsV4) {
  sockaddr_storage storage;
  ASSERT_EQ(sockaddr_from_endpoint(kV4, true, storage), sizeof(sockaddr_in6));
  const sockaddr_in6 sin6 = as_v6(storage);
  EXPECT_EQ(sin6.sin6_family, AF_INET6);
  EXPECT_EQ(ntohs(sin6.sin6_port), 7777);
  EXPECT_EQ(v6_text(sin6), "::ffff:198.18.0.1");
  EXPECT_EQ(endpoint_from_sockaddr(storage), kV4);
}

TEST(SockaddrConversion, V6RoundTripsOnEitherSocket) {
  for (const bool dual_stack : {false, true}) {
    sockaddr_storage storage;
    ASSERT_EQ(sockaddr_from_endpoint(kV6, dual_stack, storage), sizeof(sockaddr_in6));
    EXPECT_EQ(v6_text(as_v6(storage)), "2001:2::1");
    EXPECT_EQ(endpoint_from_sockaddr(storage), kV6);
  }
}

TEST(SockaddrConversion, ScopeIdSurvivesRoundTrip) {
  const Endpoint link_local =
      Endpoint::v6({0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 9, 4);
  sockaddr_storage storage;
  sockaddr_from_endpoint(link_local, true, storage);
  EXPECT_EQ(as_v6(storage).sin6_scope_id, 4u);
  EXPECT_EQ(endpoint_from_sockaddr(storage), link_local);
}

TEST(SockaddrConversion, UnknownFamilyGivesInvalidEndpoint) {
  sockaddr_storage storage{};
  storage.ss_family = AF_UNIX;
  EXPECT_FALSE(endpoint_from_sockaddr(storage).valid());
  EXPECT_EQ(sockaddr_from_endpoint(Endpoint{}, true, storage), 0u);
}

}  // namespace
}  // namespace squtun::net
