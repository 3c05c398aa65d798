#pragma once

#include <cstdint>
#include <string>

#include "protocol/endpoint.h"

namespace squtun::net {

// Resolves an IPv4 or IPv6 literal or a host name (getaddrinfo, preferring the first
// answer). Throws std::runtime_error naming the host and the resolver's reason.
protocol::Endpoint resolve_endpoint(const std::string& host, std::uint16_t port);

// True if host is an IPv6 literal (used by -m to pick the larger header).
bool is_ipv6_literal(const std::string& host);

}  // namespace squtun::net
