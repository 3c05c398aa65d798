#include "tun/mss_clamp.h"

#include <algorithm>

#include "base/byte_order.h"
#include "base/header_sizes.h"
#include "tun/checksum.h"
#include "tun/ip_packet.h"

namespace squtun::tun {
namespace {

constexpr std::uint8_t kOptionEnd = 0;
constexpr std::uint8_t kOptionNop = 1;
constexpr std::uint8_t kOptionMss = 2;
constexpr std::uint8_t kOptionMssLength = 4;
constexpr std::size_t kTcpFlagsOffset = 13;
constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
constexpr std::uint16_t kEtherTypeIpv6 = 0x86dd;

std::uint16_t mss_within(std::size_t mtu, std::size_t ip_header) {
  const std::size_t headers = ip_header + base::kTcpHeaderSize;
  return static_cast<std::uint16_t>(std::clamp<std::size_t>(mtu, headers, 0xffff) - headers);
}

// Cheap test before any parsing, so the packets that are not SYNs cost a few loads: an
// IPv4 or IPv6 packet whose protocol (next header) is TCP, with SYN set.
bool may_be_syn(std::span<const std::uint8_t> p) {
  if (p.empty()) return false;
  const unsigned version = p[0] >> 4;
  std::size_t tcp = 0;
  if (version == 4 && p.size() > 9 && p[9] == ip::kTcp) {
    tcp = std::size_t{p[0] & 0x0fu} * 4;
  } else if (version == 6 && p.size() > 6 && p[6] == ip::kTcp) {
    tcp = base::kIpv6HeaderSize;
  } else {
    return false;
  }
  return p.size() > tcp + kTcpFlagsOffset && (p[tcp + kTcpFlagsOffset] & ip::kTcpSyn) != 0;
}

// Where the MSS option's value lies in the TCP options, or 0 if there is none.
std::size_t find_mss_option(std::span<const std::uint8_t> options, std::size_t options_offset) {
  std::size_t i = 0;
  while (i < options.size() && options[i] != kOptionEnd) {
    if (options[i] == kOptionNop) {
      ++i;
      continue;
    }
    if (i + 1 >= options.size() || options[i + 1] < 2) return 0;
    if (options[i] == kOptionMss && options[i + 1] == kOptionMssLength &&
        i + kOptionMssLength <= options.size()) {
      return options_offset + i + 2;
    }
    i += options[i + 1];
  }
  return 0;
}

std::span<std::uint8_t> ip_packet_of(std::span<std::uint8_t> packet, std::size_t frame_header) {
  if (frame_header == 0) return packet;
  if (packet.size() <= frame_header) return {};
  const std::uint16_t ether_type = base::load_be16(&packet[frame_header - 2]);
  if (ether_type != kEtherTypeIpv4 && ether_type != kEtherTypeIpv6) return {};
  return packet.subspan(frame_header);
}

}  // namespace

MssClamp::MssClamp(std::size_t tunnel_mtu, std::size_t frame_header)
    : max_mss_v4_(mss_within(tunnel_mtu, base::kIpv4HeaderSize)),
      max_mss_v6_(mss_within(tunnel_mtu, base::kIpv6HeaderSize)),
      frame_header_(frame_header) {}

bool MssClamp::apply(std::span<std::uint8_t> packet) const {
  const std::span<std::uint8_t> p = ip_packet_of(packet, frame_header_);
  if (!may_be_syn(p)) return false;
  ip::Layout layout;
  if (ip::parse_layout(p, layout) != SplitStatus::Ok || layout.protocol != ip::kTcp) return false;
  const std::size_t tcp = layout.ip_header;
  const std::size_t options = tcp + base::kTcpHeaderSize;
  const std::size_t at = find_mss_option(p.subspan(options, layout.l4_header - base::kTcpHeaderSize), options);
  if (at == 0) return false;
  const std::uint16_t announced = base::load_be16(&p[at]);
  const std::uint16_t limit = max_mss(layout.v6);
  if (announced <= limit) return false;
  std::uint8_t* check = &p[tcp + ip::kTcpChecksumOffset];
  base::store_be16(check, checksum_replace16(base::load_be16(check), announced, limit));
  base::store_be16(&p[at], limit);
  return true;
}

}  // namespace squtun::tun
