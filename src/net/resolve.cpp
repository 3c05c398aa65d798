#include "net/resolve.h"

#include <netdb.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>
#include <stdexcept>

#include "base/unique_handle.h"
#include "net/sockaddr.h"

namespace squtun::net {

namespace {

using AddrinfoList = base::UniqueHandle<addrinfo, ::freeaddrinfo>;

[[noreturn]] void throw_unresolvable(const std::string& host, const std::string& reason) {
  throw std::runtime_error("cannot resolve peer host '" + host + "': " + reason +
                           "; give an IPv4 or IPv6 address, or a name in /etc/hosts or DNS");
}

int address_family(base::Endpoint::Family family) {
  switch (family) {
    case base::Endpoint::Family::V4:
      return AF_INET;
    case base::Endpoint::Family::V6:
      return AF_INET6;
    case base::Endpoint::Family::None:
      break;
  }
  return AF_UNSPEC;
}

const char* family_name(base::Endpoint::Family family) {
  return family == base::Endpoint::Family::V4 ? "IPv4" : "IPv6";
}

// No AI_ADDRCONFIG: it hides loopback names when the host has only loopback addresses,
// which is exactly the situation of a tunnel tested inside a fresh network namespace.
AddrinfoList lookup(const std::string& host, int family, int flags, int& rc) {
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = flags;
  addrinfo* list = nullptr;
  rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &list);
  return AddrinfoList(rc == 0 ? list : nullptr);
}

[[noreturn]] void throw_wrong_family(const std::string& host, base::Endpoint::Family family) {
  throw_unresolvable(host, std::string("it has no ") + family_name(family) + " address, and the local address (-b) is " +
                               family_name(family));
}

AddrinfoList lookup(const std::string& host, base::Endpoint::Family family) {
  int rc = 0;
  AddrinfoList list = lookup(host, address_family(family), 0, rc);
  if (rc != 0 && family != base::Endpoint::Family::None) {
    // Tell "no such name" from "no address of that family".
    int any_rc = 0;
    if (lookup(host, AF_UNSPEC, 0, any_rc) && any_rc == 0) throw_wrong_family(host, family);
    rc = any_rc;
  }
  if (rc != 0) throw_unresolvable(host, ::gai_strerror(rc));
  return list;
}

base::Endpoint first_endpoint(const addrinfo* list, std::uint16_t port) {
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    sockaddr_storage storage{};
    std::memcpy(&storage, ai->ai_addr, ai->ai_addrlen);
    base::Endpoint ep = endpoint_from_sockaddr(storage);
    if (!ep.valid()) continue;
    ep.port = port;
    return ep;
  }
  return {};
}

}  // namespace

base::Endpoint resolve_endpoint(const std::string& host, std::uint16_t port,
                                base::Endpoint::Family family) {
  if (host.empty()) throw_unresolvable(host, "empty host name");
  if (host.find('\0') != std::string::npos) throw_unresolvable(host.substr(0, host.find('\0')), "the name contains a NUL byte");
  const AddrinfoList list = lookup(host, family);
  const base::Endpoint ep = first_endpoint(list.get(), port);
  if (!ep.valid()) throw_unresolvable(host, "no IPv4 or IPv6 address");
  // An IPv4-mapped IPv6 literal comes back as IPv4 whatever family was asked for.
  if (family != base::Endpoint::Family::None && ep.family != family)
    throw_wrong_family(host, family);
  return ep;
}

std::optional<base::Endpoint> parse_address(const std::string& text, std::uint16_t port) {
  // getaddrinfo would read only up to a NUL and accept "127.0.0.1\0junk".
  if (text.empty() || text.find('\0') != std::string::npos) return std::nullopt;
  int rc = 0;
  const AddrinfoList list = lookup(text, AF_UNSPEC, AI_NUMERICHOST, rc);
  if (rc != 0) return std::nullopt;
  const base::Endpoint ep = first_endpoint(list.get(), port);
  if (!ep.valid()) return std::nullopt;
  return ep;
}

std::optional<base::Endpoint::Family> literal_family(const std::string& host) {
  const auto ep = parse_address(host);
  if (!ep) return std::nullopt;
  return ep->family;
}

}  // namespace squtun::net
