#include "tun/gro_coalescer.h"

#include <algorithm>
#include <bit>

#include "tun/checksum.h"
#include "tun/gro_match.h"
#include "tun/ip_packet.h"

namespace squtun::tun {

namespace {

constexpr std::uint32_t kNoPacket = 0xffffffffu;
constexpr std::size_t kMaxIpPacket = 0xffff + base::kIpv6HeaderSize;  // IPv6 without jumbograms

// What is known of a packet's flow: not TCP/UDP over IP (no flow to keep in order),
// TCP/UDP with its addresses and ports, or possibly TCP/UDP but unreadable (fragment,
// extension headers, truncated): then every flow's open group must end.
enum class Flow : std::uint8_t { None, Known, Unknown };

std::size_t table_size(std::size_t max_packets) {
  return std::bit_ceil(std::max<std::size_t>(max_packets, 1) * 2);
}

}  // namespace

struct GroCoalescer::Candidate {
  std::uint8_t* data;
  std::uint32_t size;
  std::uint32_t index;
  ip::Layout layout;
  Flow flow;
  bool mergeable;
  std::uint16_t payload;
  std::uint32_t hash;
};

GroCoalescer::GroCoalescer(bool coalesce_udp, GroLimits limits)
    : coalesce_udp_(coalesce_udp), limits_(limits) {
  limits_.max_packets = std::max<std::size_t>(limits_.max_packets, 1);
  limits_.max_segments = std::clamp<std::size_t>(limits_.max_segments, 1, 0xffff);
  limits_.max_length = std::min<std::size_t>(limits_.max_length, 0xffff);
  packets_.resize(limits_.max_packets);
  groups_.resize(limits_.max_packets);
  slots_.resize(table_size(limits_.max_packets), Slot{0, 0});
  iovecs_.resize(2 * limits_.max_packets);
  write_begin_.resize(limits_.max_packets + 1);
  headers_.resize(limits_.max_packets);
}

void GroCoalescer::reset() {
  packet_count_ = 0;
  group_count_ = 0;
  finished_ = false;
  close_all_flows();
}

// Forgets every flow in O(1): slots of older generations count as empty.
void GroCoalescer::close_all_flows() {
  if (++generation_ == 0) {
    std::fill(slots_.begin(), slots_.end(), Slot{0, 0});
    generation_ = 1;
  }
}

bool GroCoalescer::classify(std::span<std::uint8_t> packet, Candidate& c) const {
  const SplitStatus s = ip::parse_layout(packet, c.layout);
  if (s != SplitStatus::Ok) {
    const bool unrelated = s == SplitStatus::NotIp || s == SplitStatus::WrongProtocol;
    c.flow = unrelated ? Flow::None : Flow::Unknown;
    return false;
  }
  c.flow = Flow::Known;
  c.hash = gro::flow_hash(c.data, c.layout);
  if (c.layout.protocol == ip::kUdp && !coalesce_udp_) return false;
  if (!gro::mergeable(c.data, c.size, c.layout)) return false;
  c.payload = static_cast<std::uint16_t>(c.size - c.layout.headers());
  return true;
}

bool GroCoalescer::add(std::span<std::uint8_t> packet) {
  if (packet_count_ >= limits_.max_packets || finished_) return false;
  if (packet.size() > kMaxIpPacket) return add_unreadable(packet);
  Candidate c{packet.data(),
              static_cast<std::uint32_t>(packet.size()),
              static_cast<std::uint32_t>(packet_count_),
              {},
              Flow::None,
              false,
              0,
              0};
  packets_[packet_count_++] = Packet{c.data, c.size, kNoPacket};
  c.mergeable = classify(packet, c);
  if (c.flow == Flow::Unknown) close_all_flows();
  Slot* slot = c.flow == Flow::Known ? find_flow(c) : nullptr;
  const bool found = slot != nullptr && slot->generation == generation_;
  if (found) {
    Group& g = groups_[slot->group];
    if (c.mergeable && can_append(g, c)) {
      append(g, c);
      return true;
    }
    g.open = false;  // whatever follows in this flow must not overtake this packet
  }
  open_group(c, c.mergeable ? slot : nullptr);
  return true;
}

// Something no IP packet can be (larger than IPv6 allows) goes out alone, before anything
// that follows it.
bool GroCoalescer::add_unreadable(std::span<std::uint8_t> packet) {
  close_all_flows();
  Candidate c{packet.data(), 0, static_cast<std::uint32_t>(packet_count_), {}, Flow::Unknown, false, 0, 0};
  packets_[packet_count_++] = Packet{c.data, packet.size(), kNoPacket};
  open_group(c, nullptr);
  return true;
}

GroCoalescer::Slot* GroCoalescer::find_flow(const Candidate& c) {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = c.hash & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.generation != generation_) return &s;
    const Group& g = groups_[s.group];
    const ip::Layout head_layout{g.v6, g.protocol, g.ip_header, g.l4_header};
    if (g.hash == c.hash && gro::same_flow(packets_[g.first].data, head_layout, c.data, c.layout)) return &s;
  }
}

bool GroCoalescer::can_append(const Group& g, const Candidate& c) const {
  if (!g.open || g.count >= limits_.max_segments) return false;
  if (c.payload > g.gso_size || g.length + c.payload > limits_.max_length) return false;
  const std::uint8_t* head = packets_[g.first].data;
  if (!gro::same_ip_fields(head, c.data, g.v6, g.count)) return false;
  return g.protocol != ip::kTcp || gro::tcp_continues(head, c.data, c.layout, g.next_seq);
}

void GroCoalescer::append(Group& g, const Candidate& c) {
  packets_[g.last].next = c.index;
  g.last = c.index;
  ++g.count;
  g.length += c.payload;
  g.next_seq += c.payload;
  const bool push = g.protocol == ip::kTcp && (c.data[c.layout.ip_header + 13] & ip::kTcpPsh) != 0;
  // A short segment must be the last (gso_size fixes every other one); PSH ends it too.
  if (c.payload < g.gso_size || push) g.open = false;
}

// A group of its own; open to followers only if mergeable (slot is then its flow's slot).
void GroCoalescer::open_group(const Candidate& c, Slot* slot) {
  const std::uint32_t gi = static_cast<std::uint32_t>(group_count_++);
  Group& g = groups_[gi];
  g = Group{c.index, c.index, c.hash, 0, c.size, c.payload, 1, 0, 0, 0, false, false};
  if (slot == nullptr) return;
  const ip::Layout& l = c.layout;
  const bool tcp = l.protocol == ip::kTcp;
  g.ip_header = l.ip_header;
  g.l4_header = l.l4_header;
  g.protocol = l.protocol;
  g.v6 = l.v6;
  g.next_seq = tcp ? base::load_be32(c.data + l.ip_header + 4) + c.payload : 0;
  g.open = !(tcp && (c.data[l.ip_header + 13] & ip::kTcpPsh) != 0);
  *slot = Slot{generation_, gi};
}

std::size_t GroCoalescer::write_count() {
  if (!finished_) finish();
  return group_count_;
}

std::span<const iovec> GroCoalescer::write(std::size_t i) {
  if (!finished_) finish();
  if (i >= group_count_) return {};
  return {iovecs_.data() + write_begin_[i], iovecs_.data() + write_begin_[i + 1]};
}

void GroCoalescer::finish() {
  finished_ = true;
  write_begin_[0] = 0;
  for (std::size_t i = 0; i < group_count_; ++i) finish_group(groups_[i], i);
}

// Write i: its virtio_net_hdr, the first packet whole, then the payloads of the others.
void GroCoalescer::finish_group(const Group& g, std::size_t index) {
  VnetHeader header;
  if (g.count > 1) {
    rewrite_head(g);
    const bool tcp = g.protocol == ip::kTcp;
    header.flags = kVnetFlagNeedsCsum;
    header.gso_type = tcp ? (g.v6 ? kGsoTcpV6 : kGsoTcpV4) : kGsoUdpL4;
    header.hdr_len = static_cast<std::uint16_t>(g.ip_header + g.l4_header);
    header.gso_size = g.gso_size;
    header.csum_start = g.ip_header;
    header.csum_offset = static_cast<std::uint16_t>(tcp ? ip::kTcpChecksumOffset : ip::kUdpChecksumOffset);
  }
  write_vnet_header(header, headers_[index]);
  std::uint32_t n = write_begin_[index];
  iovecs_[n++] = iovec{headers_[index].data(), kVnetHeaderSize};
  const Packet& first = packets_[g.first];
  iovecs_[n++] = iovec{first.data, first.size};
  const std::size_t skip = std::size_t{g.ip_header} + g.l4_header;
  for (std::uint32_t p = first.next; p != kNoPacket; p = packets_[p].next) {
    iovecs_[n++] = iovec{packets_[p].data + skip, packets_[p].size - skip};
  }
  write_begin_[index + 1] = n;
}

// The first packet becomes the super-packet's header: lengths of the whole, the IPv4
// checksum, PSH if the last segment had it, and the L4 checksum field holding the
// pseudo-header sum, as CHECKSUM_PARTIAL wants.
void GroCoalescer::rewrite_head(const Group& g) const {
  std::uint8_t* h = packets_[g.first].data;
  const std::uint32_t l4_length = g.length - g.ip_header;
  if (g.v6) {
    base::store_be16(h + 4, static_cast<std::uint16_t>(l4_length));
  } else {
    base::store_be16(h + 2, static_cast<std::uint16_t>(g.length));
    base::store_be16(h + 10, 0);
    base::store_be16(h + 10, internet_checksum({h, g.ip_header}));
  }
  std::uint8_t* l4 = h + g.ip_header;
  std::size_t check_at = ip::kTcpChecksumOffset;
  if (g.protocol == ip::kTcp) {
    l4[13] |= packets_[g.last].data[g.ip_header + 13] & ip::kTcpPsh;
  } else {
    check_at = ip::kUdpChecksumOffset;
    base::store_be16(l4 + 4, static_cast<std::uint16_t>(l4_length));
  }
  const ip::Layout layout{g.v6, g.protocol, g.ip_header, g.l4_header};
  const std::uint32_t pseudo = checksum_combine(ip::pseudo_address_sum(h, layout), l4_length);
  base::store_be16(l4 + check_at, checksum_fold(pseudo));
}

}  // namespace squtun::tun
