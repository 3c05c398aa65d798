#pragma once

#include <sys/socket.h>

#include "base/endpoint.h"

namespace squtun::net {

// Conversions between the protocol's Endpoint and kernel socket addresses. A dual-stack
// socket needs IPv4 peers as IPv4-mapped IPv6 addresses.
base::Endpoint endpoint_from_sockaddr(const sockaddr_storage& addr);
socklen_t sockaddr_from_endpoint(const base::Endpoint& ep, bool dual_stack, sockaddr_storage& out);

}  // namespace squtun::net
