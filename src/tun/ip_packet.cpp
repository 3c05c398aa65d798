#include "tun/ip_packet.h"

#include "tun/checksum.h"

namespace squtun::tun {

namespace ip {
namespace {

SplitStatus parse_ipv4(std::span<const std::uint8_t> p, Layout& layout) {
  if (p.size() < base::kIpv4HeaderSize) return SplitStatus::TooShort;
  const std::size_t header = std::size_t{p[0] & 0x0fu} * 4;
  if (header < base::kIpv4HeaderSize) return SplitStatus::BadIpHeader;
  if (header > p.size()) return SplitStatus::TooShort;
  if (base::load_be16(&p[2]) != p.size()) return SplitStatus::LengthMismatch;
  if ((base::load_be16(&p[6]) & kIpv4FragmentBits) != 0) return SplitStatus::Fragment;
  layout = Layout{false, p[9], static_cast<std::uint16_t>(header), 0};
  return SplitStatus::Ok;
}

bool is_ipv6_extension_header(std::uint8_t next) {
  switch (next) {
    case 0:
    case 43:
    case 44:
    case 50:
    case 51:
    case 60:
    case 135:
    case 139:
    case 140:
    case 253:
    case 254: return true;
    default: return false;
  }
}

SplitStatus parse_ipv6(std::span<const std::uint8_t> p, Layout& layout) {
  if (p.size() < base::kIpv6HeaderSize) return SplitStatus::TooShort;
  if (base::load_be16(&p[4]) + base::kIpv6HeaderSize != p.size())
    return SplitStatus::LengthMismatch;
  if (is_ipv6_extension_header(p[6])) return SplitStatus::ExtensionHeaders;
  layout = Layout{true, p[6], static_cast<std::uint16_t>(base::kIpv6HeaderSize), 0};
  return SplitStatus::Ok;
}

SplitStatus parse_l4(std::span<const std::uint8_t> p, Layout& layout) {
  const std::size_t room = p.size() - layout.ip_header;
  if (layout.protocol == kUdp) {
    if (room < base::kUdpHeaderSize) return SplitStatus::TooShort;
    layout.l4_header = base::kUdpHeaderSize;
    return SplitStatus::Ok;
  }
  if (layout.protocol != kTcp) return SplitStatus::WrongProtocol;
  if (room < base::kTcpHeaderSize) return SplitStatus::TooShort;
  const std::size_t header = static_cast<std::size_t>(p[layout.ip_header + 12] >> 4) * 4;
  if (header < base::kTcpHeaderSize) return SplitStatus::BadL4Header;
  if (header > room) return SplitStatus::TooShort;
  layout.l4_header = static_cast<std::uint16_t>(header);
  return SplitStatus::Ok;
}

}  // namespace

SplitStatus parse_layout(std::span<const std::uint8_t> packet, Layout& layout) {
  if (packet.empty()) return SplitStatus::TooShort;
  const unsigned version = packet[0] >> 4;
  SplitStatus s = SplitStatus::NotIp;
  if (version == 4) s = parse_ipv4(packet, layout);
  if (version == 6) s = parse_ipv6(packet, layout);
  return s == SplitStatus::Ok ? parse_l4(packet, layout) : s;
}

std::uint32_t pseudo_address_sum(const std::uint8_t* packet, const Layout& layout) {
  if (layout.v6) {
    return pseudo_header_sum_v6(std::span<const std::uint8_t, 16>(packet + 8, 16),
                                std::span<const std::uint8_t, 16>(packet + 24, 16), layout.protocol, 0);
  }
  return pseudo_header_sum_v4(std::span<const std::uint8_t, 4>(packet + 12, 4),
                              std::span<const std::uint8_t, 4>(packet + 16, 4), layout.protocol, 0);
}

}  // namespace ip
}  // namespace squtun::tun
