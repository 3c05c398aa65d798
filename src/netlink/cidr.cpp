#include "netlink/cidr.h"

#include <arpa/inet.h>

#include <charconv>
#include <stdexcept>

namespace squtun::netlink {
namespace {

base::Endpoint parse_address(const std::string& text) {
  base::Endpoint address;  // as written: an IPv4-mapped IPv6 address stays IPv6
  if (inet_pton(AF_INET, text.c_str(), address.address.data()) == 1)
    address.family = base::Endpoint::Family::V4;
  if (inet_pton(AF_INET6, text.c_str(), address.address.data()) == 1)
    address.family = base::Endpoint::Family::V6;
  if (address.valid()) return address;
  throw std::invalid_argument("'" + text + "' is not an IPv4 or IPv6 address");
}

bool host_bits_set(const Cidr& cidr) {
  const std::size_t size = cidr.address.family == base::Endpoint::Family::V4 ? 4 : 16;
  for (std::size_t bit = cidr.prefix; bit < size * 8; ++bit) {
    if (cidr.address.address[bit / 8] & (0x80 >> (bit % 8))) return true;
  }
  return false;
}

}  // namespace

std::string Cidr::to_string() const {
  char text[INET6_ADDRSTRLEN] = "";
  inet_ntop(address.family == base::Endpoint::Family::V4 ? AF_INET : AF_INET6,
            address.address.data(), text, sizeof text);
  return std::string(text) + "/" + std::to_string(prefix);
}

Cidr parse_cidr(const std::string& text, HostBits host_bits) {
  const auto slash = text.find('/');
  if (slash == std::string::npos) throw std::invalid_argument("no /PREFIX (e.g. 10.99.0.1/30)");
  Cidr cidr{parse_address(text.substr(0, slash))};
  const unsigned max_prefix = cidr.address.family == base::Endpoint::Family::V4 ? 32 : 128;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data() + slash + 1, end, cidr.prefix);
  if (error != std::errc() || stop != end || cidr.prefix > max_prefix)
    throw std::invalid_argument("the prefix length must be 0 to " + std::to_string(max_prefix));
  if (host_bits == HostBits::Refused && host_bits_set(cidr))
    throw std::invalid_argument(
        "bits are set beyond the prefix length (a network is e.g. 10.77.0.0/24)");
  return cidr;
}

}  // namespace squtun::netlink
