#include "net/resolve.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>
#include <stdexcept>

#include "net/sockaddr.h"

namespace squtun::net {

namespace {

struct AddrinfoDeleter {
  void operator()(addrinfo* list) const { ::freeaddrinfo(list); }
};
using AddrinfoList = std::unique_ptr<addrinfo, AddrinfoDeleter>;

[[noreturn]] void throw_unresolvable(const std::string& host, const std::string& reason) {
  throw std::runtime_error("cannot resolve peer host '" + host + "': " + reason +
                           "; give an IPv4 or IPv6 address, or a name in /etc/hosts or DNS");
}

// No AI_ADDRCONFIG: it hides loopback names when the host has only loopback addresses,
// which is exactly the situation of a tunnel tested inside a fresh network namespace.
AddrinfoList lookup(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* list = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &list);
  if (rc != 0) throw_unresolvable(host, ::gai_strerror(rc));
  return AddrinfoList(list);
}

}  // namespace

protocol::Endpoint resolve_endpoint(const std::string& host, std::uint16_t port) {
  if (host.empty()) throw_unresolvable(host, "empty host name");
  const AddrinfoList list = lookup(host);
  for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    sockaddr_storage storage{};
    std::memcpy(&storage, ai->ai_addr, ai->ai_addrlen);
    protocol::Endpoint ep = endpoint_from_sockaddr(storage);
    if (!ep.valid()) continue;
    ep.port = port;
    return ep;
  }
  throw_unresolvable(host, "no IPv4 or IPv6 address");
}

bool is_ipv6_literal(const std::string& host) {
  in6_addr addr{};
  return ::inet_pton(AF_INET6, host.c_str(), &addr) == 1;
}

}  // namespace squtun::net
