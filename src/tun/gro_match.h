#pragma once

#include <cstddef>
#include <cstdint>

#include "tun/ip_packet.h"

// The per-packet tests GroCoalescer merges by, on packets whose layout parse_layout accepted.
namespace squtun::tun::gro {

std::uint32_t flow_hash(const std::uint8_t* packet, const ip::Layout& layout);

// Same IP version, protocol, addresses and ports.
bool same_flow(const std::uint8_t* a, const ip::Layout& la, const std::uint8_t* b, const ip::Layout& lb);

// Whether a packet may be merged at all: no IPv4 options, a payload, ACK or ACK|PSH only
// for TCP, a UDP length that agrees and a checksum present, and valid checksums.
bool mergeable(const std::uint8_t* packet, std::size_t size, const ip::Layout& layout);

// Whether segment q may follow head's group of count segments, as far as the IP header
// says: TOS/traffic class, TTL/hop limit, DF, flow label, and the IPv4 id without DF.
bool same_ip_fields(const std::uint8_t* head, const std::uint8_t* q, bool v6, std::uint16_t count);

// Whether TCP segment q may follow head's group: same ACK, window, flags but PSH, urgent
// pointer, options, and q's sequence number is next_seq.
bool tcp_continues(const std::uint8_t* head, const std::uint8_t* q, const ip::Layout& layout,
                   std::uint32_t next_seq);

}  // namespace squtun::tun::gro
