#include "tun/gso_splitter.h"

#include <algorithm>
#include <cstring>

#include "tun/checksum.h"

namespace squtun::tun {

SplitStatus GsoSplitter::fail(SplitStatus why) {
  status_ = why;
  segments_ = 0;
  return why;
}

SplitStatus GsoSplitter::start(const VnetHeader& header, std::span<const std::uint8_t> packet) {
  packet_ = packet;
  status_ = SplitStatus::Ok;
  offset_ = 0;
  index_ = 0;
  segments_ = 0;
  if (packet.empty()) return fail(SplitStatus::TooShort);
  // The ECN bit only says the sender uses ECN; segmentation treats CWR the same either way.
  const auto type = static_cast<std::uint8_t>(header.gso_type & ~kGsoEcn);
  if (type == kGsoNone) return start_single(header);
  return start_segmented(type, header.gso_size);
}

SplitStatus GsoSplitter::start_single(const VnetHeader& header) {
  kind_ = Kind::Copy;
  segments_ = 1;
  if ((header.flags & kVnetFlagNeedsCsum) == 0) return status_;
  // Like the kernel's skb_checksum_help: sum from csum_start to the end, the field itself
  // holding the pseudo-header sum, and store the result there.
  const std::size_t field = std::size_t{header.csum_start} + header.csum_offset;
  if (field + 2 > packet_.size()) return fail(SplitStatus::BadChecksumOffsets);
  kind_ = Kind::CompleteChecksum;
  csum_start_ = header.csum_start;
  csum_offset_ = header.csum_offset;
  return status_;
}

SplitStatus GsoSplitter::start_segmented(std::uint8_t gso_type, std::uint16_t gso_size) {
  if (gso_type != kGsoTcpV4 && gso_type != kGsoTcpV6 && gso_type != kGsoUdpL4)
    return fail(SplitStatus::UnsupportedGsoType);
  if (const SplitStatus s = ip::parse_layout(packet_, layout_); s != SplitStatus::Ok) return fail(s);
  const bool tcp = layout_.protocol == ip::kTcp;
  const bool agrees = gso_type == kGsoUdpL4 ? !tcp : tcp && layout_.v6 == (gso_type == kGsoTcpV6);
  if (!agrees) return fail(SplitStatus::HeaderMismatch);
  if (gso_size == 0) return fail(SplitStatus::BadGsoSize);
  kind_ = tcp ? Kind::Tcp : Kind::Udp;
  gso_size_ = gso_size;
  payload_ = packet_.size() - layout_.headers();
  segments_ = payload_ == 0 ? 1 : (payload_ + gso_size - 1) / gso_size;
  const std::uint8_t* p = packet_.data();
  first_ip_id_ = layout_.v6 ? 0 : base::load_be16(p + 4);
  first_seq_ = tcp ? base::load_be32(p + layout_.ip_header + 4) : 0;
  address_sum_ = ip::pseudo_address_sum(p, layout_);
  return status_;
}

std::size_t GsoSplitter::max_segment_size() const {
  if (segments_ == 0) return 0;
  if (kind_ == Kind::Copy || kind_ == Kind::CompleteChecksum) return packet_.size();
  return layout_.headers() + std::min<std::size_t>(gso_size_, payload_);
}

std::size_t GsoSplitter::next(std::span<std::uint8_t> out) {
  if (status_ != SplitStatus::Ok || index_ >= segments_) return 0;
  const bool single = kind_ == Kind::Copy || kind_ == Kind::CompleteChecksum;
  const std::size_t payload = single ? 0 : std::min<std::size_t>(gso_size_, payload_ - offset_);
  const std::size_t length = single ? packet_.size() : layout_.headers() + payload;
  if (out.size() < length) {
    fail(SplitStatus::OutputTooSmall);
    return 0;
  }
  if (single) {
    write_single(out.data());
  } else {
    write_segment(out.data(), payload, index_ + 1 == segments_);
  }
  offset_ += payload;
  ++index_;
  return length;
}

void GsoSplitter::write_single(std::uint8_t* out) const {
  const std::size_t plain = kind_ == Kind::Copy ? packet_.size() : csum_start_;
  std::memcpy(out, packet_.data(), plain);
  if (kind_ == Kind::Copy) return;
  const std::uint16_t sum = checksum_finish(checksum_copy(out + plain, packet_.subspan(plain)));
  base::store_be16(out + csum_start_ + csum_offset_, sum == 0 ? 0xffff : sum);
}

// The payload is summed as it is copied; the L4 header is even-sized (TCP: 4-byte units,
// UDP: 8), so the payload's words line up with the whole segment's and the sums just add.
void GsoSplitter::write_segment(std::uint8_t* out, std::size_t payload, bool last) const {
  const std::size_t headers = layout_.headers();
  std::memcpy(out, packet_.data(), headers);
  const std::uint32_t payload_sum =
      checksum_copy(out + headers, packet_.subspan(headers + offset_, payload));
  patch_ip(out, headers + payload);
  patch_l4(out + layout_.ip_header, layout_.l4_header + payload, payload_sum, last);
}

void GsoSplitter::patch_ip(std::uint8_t* out, std::size_t length) const {
  if (layout_.v6) {
    base::store_be16(out + 4, static_cast<std::uint16_t>(length - base::kIpv6HeaderSize));
    return;
  }
  base::store_be16(out + 2, static_cast<std::uint16_t>(length));
  base::store_be16(out + 4, static_cast<std::uint16_t>(first_ip_id_ + index_));
  base::store_be16(out + 10, 0);
  base::store_be16(out + 10, internet_checksum({out, layout_.ip_header}));
}

// Sequence number, flags (as tcp_gso_segment: CWR on the first segment only, FIN and PSH
// on the last only) or UDP length, then the checksum: header, payload_sum and pseudo-header.
void GsoSplitter::patch_l4(std::uint8_t* l4, std::size_t l4_length, std::uint32_t payload_sum,
                           bool last) const {
  std::size_t check_at = ip::kUdpChecksumOffset;
  if (kind_ == Kind::Tcp) {
    check_at = ip::kTcpChecksumOffset;
    base::store_be32(l4 + 4, first_seq_ + static_cast<std::uint32_t>(offset_));
    std::uint8_t flags = l4[13];
    if (index_ != 0) flags &= static_cast<std::uint8_t>(~ip::kTcpCwr);
    if (!last) flags &= static_cast<std::uint8_t>(~(ip::kTcpFin | ip::kTcpPsh));
    l4[13] = flags;
  } else {
    base::store_be16(l4 + 4, static_cast<std::uint16_t>(l4_length));
  }
  base::store_be16(l4 + check_at, 0);
  const auto length = static_cast<std::uint32_t>(l4_length);
  const std::uint32_t rest = checksum_combine(checksum_combine(address_sum_, length), payload_sum);
  const std::uint16_t sum = checksum_finish(checksum_add({l4, layout_.l4_header}, rest));
  // A UDP checksum of 0 means "none"; 0xffff is the same sum in ones' complement.
  base::store_be16(l4 + check_at, sum == 0 && kind_ == Kind::Udp ? 0xffff : sum);
}

}  // namespace squtun::tun
