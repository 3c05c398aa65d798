#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "tun/ip_packet.h"
#include "tun/vnet_header.h"

namespace squtun::tun {

// Cuts what one read() of an IFF_VNET_HDR TUN device yields (a virtio_net_hdr and an IP
// packet, maybe a TSO/USO super-packet of up to 64 KiB) into the IP packets the kernel
// would have sent without the offload, with every length, IPv4 id and checksum complete.
// Header lengths come from the packet itself, never from hdr_len (the kernel may count
// payload in it); nothing outside the packet or the output is read or written.
//
//   if (splitter.start(hdr, packet) != SplitStatus::Ok) count a drop
//   while (std::size_t n = splitter.next(buf)) send(buf.first(n));
//   if (splitter.status() != SplitStatus::Ok) count a drop (buf too small)
class GsoSplitter {
 public:
  // Ok, or why the packet cannot be split (then next() yields nothing). gso NONE copies
  // the packet as it is, completing the checksum at csum_start/csum_offset if NEEDS_CSUM.
  SplitStatus start(const VnetHeader& header, std::span<const std::uint8_t> packet);

  // Writes the next segment into out and returns its length; 0 when none is left, or on an
  // error: out shorter than the segment makes status() OutputTooSmall and ends the packet.
  std::size_t next(std::span<std::uint8_t> out);

  SplitStatus status() const { return status_; }
  // How many segments start() found, and how large the largest is (the first).
  std::size_t segment_count() const { return segments_; }
  std::size_t max_segment_size() const;

 private:
  enum class Kind : std::uint8_t { Copy, CompleteChecksum, Tcp, Udp };

  SplitStatus fail(SplitStatus why);
  SplitStatus start_single(const VnetHeader& header);
  SplitStatus start_segmented(std::uint8_t gso_type, std::uint16_t gso_size);
  void write_single(std::uint8_t* out) const;
  void write_segment(std::uint8_t* out, std::size_t payload, bool last) const;
  void patch_ip(std::uint8_t* out, std::size_t length) const;
  void patch_l4(std::uint8_t* l4, std::size_t l4_length, std::uint32_t payload_sum,
                bool last) const;

  std::span<const std::uint8_t> packet_;
  SplitStatus status_ = SplitStatus::Ok;
  Kind kind_ = Kind::Copy;
  ip::Layout layout_;
  std::uint16_t gso_size_ = 0;
  std::uint16_t csum_start_ = 0;
  std::uint16_t csum_offset_ = 0;
  std::uint16_t first_ip_id_ = 0;
  std::uint32_t first_seq_ = 0;
  std::uint32_t address_sum_ = 0;  // pseudo-header without the length
  std::size_t payload_ = 0;        // bytes after the headers
  std::size_t offset_ = 0;         // payload bytes already sent
  std::size_t segments_ = 0;
  std::size_t index_ = 0;
};

}  // namespace squtun::tun
