#pragma once

#include <string>

#include "base/endpoint.h"

namespace squtun::netlink {

// An IPv4 or IPv6 address with a prefix length: 10.99.0.1/30, fd00::/64.
struct Cidr {
  base::Endpoint address;  // no port
  unsigned prefix = 0;

  bool operator==(const Cidr&) const = default;
  std::string to_string() const;
};

enum class HostBits { Allowed, Refused };

// Parses "ADDRESS/PREFIX": IPv4 with a prefix of 0-32, IPv6 with 0-128. A route's network
// (HostBits::Refused) must have no bit set beyond its prefix. Throws std::invalid_argument
// saying what is wrong.
Cidr parse_cidr(const std::string& text, HostBits host_bits);

}  // namespace squtun::netlink
