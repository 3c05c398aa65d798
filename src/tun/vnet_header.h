#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace squtun::tun {

// struct virtio_net_hdr and its constants, as <linux/virtio_net.h> defines them. That
// header cannot be included from C++ (a field of its control structures is named `class`),
// and before Linux 6.2 it lacks GSO_UDP_L4 (and <linux/if_tun.h> the TUN_F_USO flags).
inline constexpr std::uint8_t kVnetFlagNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
inline constexpr std::uint8_t kVnetFlagDataValid = 2;  // VIRTIO_NET_HDR_F_DATA_VALID
inline constexpr std::uint8_t kGsoNone = 0;            // VIRTIO_NET_HDR_GSO_NONE
inline constexpr std::uint8_t kGsoTcpV4 = 1;           // VIRTIO_NET_HDR_GSO_TCPV4
inline constexpr std::uint8_t kGsoTcpV6 = 4;           // VIRTIO_NET_HDR_GSO_TCPV6
inline constexpr std::uint8_t kGsoUdpL4 = 5;           // VIRTIO_NET_HDR_GSO_UDP_L4 (Linux 6.2)
inline constexpr std::uint8_t kGsoEcn = 0x80;          // VIRTIO_NET_HDR_GSO_ECN
inline constexpr unsigned kTunOffloadUso4 = 0x20;      // TUN_F_USO4 (Linux 6.2)
inline constexpr unsigned kTunOffloadUso6 = 0x40;      // TUN_F_USO6 (Linux 6.2)

// The header a TUN device opened with IFF_VNET_HDR puts in front of every packet, in host
// byte order (TUN uses the legacy layout unless TUNSETVNETLE/BE ask otherwise).
inline constexpr std::size_t kVnetHeaderSize = 10;

struct VnetHeader {
  std::uint8_t flags = 0;     // VIRTIO_NET_HDR_F_*
  std::uint8_t gso_type = 0;  // VIRTIO_NET_HDR_GSO_*, possibly with VIRTIO_NET_HDR_GSO_ECN
  std::uint16_t hdr_len = 0;  // a hint only: the kernel may count some payload in it
  std::uint16_t gso_size = 0;
  std::uint16_t csum_start = 0;
  std::uint16_t csum_offset = 0;

  bool operator==(const VnetHeader&) const = default;
};

// Nothing if bytes is shorter than kVnetHeaderSize; extra bytes (the packet) are ignored.
std::optional<VnetHeader> parse_vnet_header(std::span<const std::uint8_t> bytes);
void write_vnet_header(const VnetHeader& header, std::span<std::uint8_t, kVnetHeaderSize> out);

}  // namespace squtun::tun
