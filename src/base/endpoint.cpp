#include "base/endpoint.h"

#include <arpa/inet.h>

#include <algorithm>

namespace squtun::base {

namespace {

constexpr std::array<std::uint8_t, 12> kV4MappedPrefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool is_v4_mapped(const std::array<std::uint8_t, 16>& addr) {
  return std::equal(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), addr.begin());
}

std::string address_text(int af, const std::uint8_t* addr) {
  char text[INET6_ADDRSTRLEN] = {};
  if (::inet_ntop(af, addr, text, sizeof text) == nullptr) return "?";
  return text;
}

}  // namespace

Endpoint Endpoint::v4(std::array<std::uint8_t, 4> addr, std::uint16_t port) {
  Endpoint ep;
  ep.family = Family::V4;
  std::copy(addr.begin(), addr.end(), ep.address.begin());
  ep.port = port;
  return ep;
}

Endpoint Endpoint::v6(const std::array<std::uint8_t, 16>& addr, std::uint16_t port,
                      std::uint32_t scope_id) {
  if (is_v4_mapped(addr)) return v4({addr[12], addr[13], addr[14], addr[15]}, port);
  Endpoint ep;
  ep.family = Family::V6;
  ep.address = addr;
  ep.port = port;
  ep.scope_id = scope_id;
  return ep;
}

std::string Endpoint::to_string() const {
  const std::string port_text = std::to_string(port);
  switch (family) {
    case Family::V4:
      return address_text(AF_INET, address.data()) + ":" + port_text;
    case Family::V6: {
      std::string host = address_text(AF_INET6, address.data());
      if (scope_id != 0) host += "%" + std::to_string(scope_id);
      return "[" + host + "]:" + port_text;
    }
    case Family::None:
      break;
  }
  return "(no address)";
}

}  // namespace squtun::base
