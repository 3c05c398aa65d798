#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/endpoint.h"

namespace squtun::net {

// Resolves an IPv4 or IPv6 literal or a host name (getaddrinfo, preferring the first
// answer). With `family` V4 or V6 only addresses of that family count (a socket bound to
// one address, -b, reaches no other). Throws std::runtime_error naming the host and the
// resolver's reason.
base::Endpoint resolve_endpoint(const std::string& host, std::uint16_t port,
                                base::Endpoint::Family family = base::Endpoint::Family::None);

// Parses an IPv4 or IPv6 address literal, without a lookup; an IPv6 one may name its
// interface (fe80::1%eth0). Nothing if `text` is not an address (e.g. a host name).
std::optional<base::Endpoint> parse_address(const std::string& text, std::uint16_t port = 0);

// The family of an address literal (an IPv4-mapped IPv6 address counts as IPv4), or
// nothing for a host name.
std::optional<base::Endpoint::Family> literal_family(const std::string& host);

}  // namespace squtun::net
