#include "net/sockaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

namespace squtun::net {

using base::Endpoint;

namespace {

Endpoint endpoint_from_v4(const sockaddr_in& sin) {
  std::array<std::uint8_t, 4> addr{};
  std::memcpy(addr.data(), &sin.sin_addr, addr.size());
  return Endpoint::v4(addr, ntohs(sin.sin_port));
}

Endpoint endpoint_from_v6(const sockaddr_in6& sin6) {
  std::array<std::uint8_t, 16> addr{};
  std::memcpy(addr.data(), &sin6.sin6_addr, addr.size());
  return Endpoint::v6(addr, ntohs(sin6.sin6_port), sin6.sin6_scope_id);
}

socklen_t write_v4(const Endpoint& ep, sockaddr_storage& out) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(ep.port);
  std::memcpy(&sin.sin_addr, ep.address.data(), 4);
  std::memcpy(&out, &sin, sizeof sin);
  return sizeof sin;
}

socklen_t write_v6(const std::array<std::uint8_t, 16>& addr, std::uint16_t port,
                   std::uint32_t scope_id, sockaddr_storage& out) {
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(port);
  std::memcpy(&sin6.sin6_addr, addr.data(), addr.size());
  sin6.sin6_scope_id = scope_id;
  std::memcpy(&out, &sin6, sizeof sin6);
  return sizeof sin6;
}

std::array<std::uint8_t, 16> v4_mapped(const Endpoint& ep) {
  std::array<std::uint8_t, 16> addr{};
  addr[10] = 0xff;
  addr[11] = 0xff;
  std::copy_n(ep.address.begin(), 4, addr.begin() + 12);
  return addr;
}

}  // namespace

Endpoint endpoint_from_sockaddr(const sockaddr_storage& addr) {
  // memcpy rather than a cast keeps the read well defined whatever the storage's type.
  if (addr.ss_family == AF_INET) {
    sockaddr_in sin;
    std::memcpy(&sin, &addr, sizeof sin);
    return endpoint_from_v4(sin);
  }
  if (addr.ss_family == AF_INET6) {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, &addr, sizeof sin6);
    return endpoint_from_v6(sin6);
  }
  return Endpoint{};
}

socklen_t sockaddr_from_endpoint(const Endpoint& ep, bool dual_stack, sockaddr_storage& out) {
  out = sockaddr_storage{};
  switch (ep.family) {
    case Endpoint::Family::V4:
      return dual_stack ? write_v6(v4_mapped(ep), ep.port, 0, out) : write_v4(ep, out);
    case Endpoint::Family::V6:
      return write_v6(ep.address, ep.port, ep.scope_id, out);
    case Endpoint::Family::None:
      break;
  }
  return 0;
}

}  // namespace squtun::net
