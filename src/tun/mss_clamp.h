#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace squtun::tun {

// Lowers the maximum segment size that TCP SYN and SYN-ACK segments announce, so the hosts
// at either end (and on the LANs behind them, whose MTU is larger than the tunnel's) send
// segments that fit the tunnel even where ICMP "fragmentation needed" never reaches them.
class MssClamp {
 public:
  // `tunnel_mtu`: the TUN device's MTU. With `frame_header` 14 the packets are Ethernet
  // frames (TAP) and only those carrying IPv4 or IPv6 are looked at.
  explicit MssClamp(std::size_t tunnel_mtu, std::size_t frame_header = 0);

  // The MSS a segment of this family may announce at most.
  std::uint16_t max_mss(bool v6) const { return v6 ? max_mss_v6_ : max_mss_v4_; }

  // Rewrites the MSS option of a SYN in place, with its TCP checksum corrected, if it is
  // larger than max_mss. True if the packet changed. Leaves anything else alone, and reads
  // nothing outside packet. The checksum must be complete (not a CHECKSUM_PARTIAL seed).
  bool apply(std::span<std::uint8_t> packet) const;

 private:
  std::uint16_t max_mss_v4_;
  std::uint16_t max_mss_v6_;
  std::size_t frame_header_;
};

}  // namespace squtun::tun
