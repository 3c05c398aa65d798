#pragma once

#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tun/vnet_header.h"

namespace squtun::tun {

struct GroLimits {
  std::size_t max_packets = 4096;  // per batch (add() refuses more)
  std::size_t max_segments = 64;   // per super-packet
  std::size_t max_length = 65535;  // IP length of a super-packet
};

// Coalesces a batch of IP packets bound for an IFF_VNET_HDR TUN device into TSO/USO
// super-packets (GRO), so the daemon makes one write() per run of segments instead of one
// per segment. It merges like Linux's tcp_gro_receive: consecutive in-sequence segments of
// one flow with identical headers except length and sequence number, ACK or ACK|PSH only,
// all but the last exactly gso_size long, checksums verified. Anything else goes out alone
// and untouched with an all-zero header. Per flow, output order is input order.
//
// Nothing is copied: writes are iovec lists over the caller's packets, which must stay
// alive and unmoved until the writes are done. Merging rewrites the first packet of each
// super-packet in place (lengths, IPv4 checksum, PSH, L4 checksum field).
//
//   coalescer.reset();
//   for each packet: if (!coalescer.add(packet)) { write this batch; reset; add again }
//   for (i < coalescer.write_count()) writev(tun, coalescer.write(i))
class GroCoalescer {
 public:
  explicit GroCoalescer(bool coalesce_udp, GroLimits limits = {});

  void reset();
  // Offers one IP packet; false (packet not taken) when the batch already holds max_packets,
  // or once write_count() or write() was called (the heads are rewritten then): reset() first.
  bool add(std::span<std::uint8_t> packet);
  std::size_t packet_count() const { return packet_count_; }

  // After the adds: how many writes, and for each the virtio_net_hdr then the packet pieces
  // (empty past the last). The first call rewrites the super-packets' first packets.
  std::size_t write_count();
  std::span<const iovec> write(std::size_t i);

 private:
  struct Packet {
    std::uint8_t* data;
    std::size_t size;
    std::uint32_t next;  // next packet of its group
  };
  struct Group {
    std::uint32_t first;
    std::uint32_t last;
    std::uint32_t hash;
    std::uint32_t next_seq;  // TCP: the sequence number an appended segment must carry
    std::uint32_t length;    // IP length of the super-packet so far
    std::uint16_t gso_size;  // payload of the first segment
    std::uint16_t count;
    std::uint16_t ip_header;
    std::uint16_t l4_header;
    std::uint8_t protocol;  // 0: never merged (not TCP/UDP, or failed a check)
    bool v6;
    bool open;
  };
  struct Slot {
    std::uint32_t generation;
    std::uint32_t group;
  };
  struct Candidate;

  bool add_unreadable(std::span<std::uint8_t> packet);
  bool classify(std::span<std::uint8_t> packet, Candidate& c) const;
  Slot* find_flow(const Candidate& c);
  bool can_append(const Group& g, const Candidate& c) const;
  void append(Group& g, const Candidate& c);
  void open_group(const Candidate& c, Slot* slot);
  void close_all_flows();
  void finish();
  void finish_group(const Group& g, std::size_t index);
  void rewrite_head(const Group& g) const;

  bool coalesce_udp_;
  GroLimits limits_;
  std::vector<Packet> packets_;
  std::vector<Group> groups_;
  std::vector<Slot> slots_;  // open addressing, a power of two at least twice max_packets
  std::vector<iovec> iovecs_;
  std::vector<std::uint32_t> write_begin_;  // write i is iovecs_[write_begin_[i], write_begin_[i+1])
  std::vector<std::array<std::uint8_t, kVnetHeaderSize>> headers_;
  std::size_t packet_count_ = 0;
  std::size_t group_count_ = 0;
  std::uint32_t generation_ = 1;
  bool finished_ = false;
};

}  // namespace squtun::tun
