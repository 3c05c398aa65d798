#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "base/byte_order.h"
#include "base/header_sizes.h"

// What the offload code needs to know about IPv4/IPv6 packets carrying TCP or UDP:
// big-endian field access and the header layout, derived from the packet's own bytes.
namespace squtun::tun {

// Why a packet cannot be split (GsoSplitter::start, next) or why its headers do not parse.
enum class SplitStatus : std::uint8_t {
  Ok,
  TooShort,            // ends inside a header
  NotIp,               // version is neither 4 nor 6
  BadIpHeader,         // IPv4 header length below 20
  LengthMismatch,      // IP total/payload length disagrees with the packet size
  Fragment,            // IPv4 fragment
  ExtensionHeaders,    // IPv6 extension headers before TCP/UDP
  WrongProtocol,       // not TCP or UDP
  BadL4Header,         // TCP data offset below 20
  UnsupportedGsoType,  // not NONE, TCPV4, TCPV6 or UDP_L4
  HeaderMismatch,      // the vnet header's gso_type disagrees with the packet
  BadGsoSize,          // gso_size of 0
  BadChecksumOffsets,  // csum_start/csum_offset point outside the packet
  OutputTooSmall,      // next() was given a buffer shorter than the segment
  kCount,
};

namespace ip {

inline constexpr std::uint8_t kTcp = 6;
inline constexpr std::uint8_t kUdp = 17;
inline constexpr std::size_t kTcpChecksumOffset = 16;
inline constexpr std::size_t kUdpChecksumOffset = 6;
inline constexpr std::uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpPsh = 0x08;
inline constexpr std::uint8_t kTcpAck = 0x10, kTcpUrg = 0x20, kTcpEce = 0x40, kTcpCwr = 0x80;
inline constexpr std::uint16_t kIpv4DontFragment = 0x4000;
inline constexpr std::uint16_t kIpv4FragmentBits = 0x3fff;  // MF and the offset

// Where the headers of a TCP or UDP packet end.
struct Layout {
  bool v6 = false;
  std::uint8_t protocol = 0;
  std::uint16_t ip_header = 0;  // IPv4 header with options, or the fixed IPv6 header
  std::uint16_t l4_header = 0;  // TCP header with options, or 8 for UDP
  std::size_t headers() const { return std::size_t{ip_header} + l4_header; }
};

// Checks that packet is exactly one unfragmented IPv4 or IPv6 packet (lengths agree with
// its size) whose TCP or UDP header lies inside it, and fills layout. Reads only inside.
SplitStatus parse_layout(std::span<const std::uint8_t> packet, Layout& layout);

// The pseudo-header sum of packet's addresses and protocol, for an L4 length of 0.
std::uint32_t pseudo_address_sum(const std::uint8_t* packet, const Layout& layout);

}  // namespace ip
}  // namespace squtun::tun
