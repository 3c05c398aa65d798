#include "tun/gro_match.h"

#include <cstring>

#include "tun/checksum.h"

namespace squtun::tun::gro {

namespace {

std::uint64_t load_native64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::uint64_t mix(std::uint64_t h, std::uint64_t w) {
  h = (h ^ w) * 0x9e3779b97f4a7c15ull;
  return h ^ (h >> 29);
}

bool checksums_valid(const std::uint8_t* p, std::size_t size, const ip::Layout& layout) {
  if (!layout.v6 && internet_checksum({p, layout.ip_header}) != 0) return false;
  const std::size_t l4_length = size - layout.ip_header;
  const std::uint32_t pseudo =
      checksum_combine(ip::pseudo_address_sum(p, layout), static_cast<std::uint32_t>(l4_length));
  return checksum_finish(checksum_add({p + layout.ip_header, l4_length}, pseudo)) == 0;
}

}  // namespace

std::uint32_t flow_hash(const std::uint8_t* p, const ip::Layout& layout) {
  std::uint64_t h = layout.protocol | (layout.v6 ? 0x100u : 0u);
  if (layout.v6) {
    for (std::size_t i = 8; i < 40; i += 8) h = mix(h, load_native64(p + i));
  } else {
    h = mix(h, load_native64(p + 12));
  }
  h = mix(h, base::load_be32(p + layout.ip_header));  // the ports
  return static_cast<std::uint32_t>(h >> 32);
}

bool same_flow(const std::uint8_t* a, const ip::Layout& la, const std::uint8_t* b, const ip::Layout& lb) {
  if (la.v6 != lb.v6 || la.protocol != lb.protocol) return false;
  const bool addresses = la.v6 ? std::memcmp(a + 8, b + 8, 32) == 0 : std::memcmp(a + 12, b + 12, 8) == 0;
  return addresses && std::memcmp(a + la.ip_header, b + lb.ip_header, 4) == 0;
}

bool mergeable(const std::uint8_t* p, std::size_t size, const ip::Layout& layout) {
  if (!layout.v6 && layout.ip_header != base::kIpv4HeaderSize) return false;
  if (size <= layout.headers()) return false;
  const std::uint8_t* l4 = p + layout.ip_header;
  if (layout.protocol == ip::kTcp) {
    const std::uint8_t flags = l4[13];
    if (flags != ip::kTcpAck && flags != (ip::kTcpAck | ip::kTcpPsh)) return false;
  } else {
    if (base::load_be16(l4 + 4) != size - layout.ip_header) return false;
    if (base::load_be16(l4 + ip::kUdpChecksumOffset) == 0) return false;  // no checksum to trust
  }
  return checksums_valid(p, size, layout);
}

bool same_ip_fields(const std::uint8_t* head, const std::uint8_t* q, bool v6, std::uint16_t count) {
  if (v6) return std::memcmp(head, q, 4) == 0 && head[7] == q[7];
  if (head[1] != q[1] || head[8] != q[8]) return false;
  // Fragments never get here, so the field holds DF and the reserved bit: both must match,
  // as segmentation copies the first segment's (the reserved bit found by fuzz_offload).
  const std::uint16_t head_frag = base::load_be16(head + 6);
  if (head_frag != base::load_be16(q + 6)) return false;
  // Without DF, the kernel re-segmenting the super-packet recreates ids counting up from
  // the first: merge only segments that carried exactly those (as inet_gro_receive).
  if ((head_frag & ip::kIpv4DontFragment) != 0) return true;
  return base::load_be16(q + 4) == static_cast<std::uint16_t>(base::load_be16(head + 4) + count);
}

bool tcp_continues(const std::uint8_t* head, const std::uint8_t* q, const ip::Layout& layout,
                   std::uint32_t next_seq) {
  const std::uint8_t* h = head + layout.ip_header;
  const std::uint8_t* t = q + layout.ip_header;
  if (base::load_be32(t + 4) != next_seq) return false;
  if (std::memcmp(h + 8, t + 8, 5) != 0) return false;  // ACK number, data offset
  if (((h[13] ^ t[13]) & ~ip::kTcpPsh) != 0) return false;
  if (std::memcmp(h + 14, t + 14, 2) != 0) return false;  // window
  // The urgent pointer means nothing without URG, but segmentation copies the first one:
  // only equal ones split back into the very same segments.
  if (std::memcmp(h + 18, t + 18, 2) != 0) return false;
  return std::memcmp(h + base::kTcpHeaderSize, t + base::kTcpHeaderSize,
                     layout.l4_header - base::kTcpHeaderSize) == 0;
}

}  // namespace squtun::tun::gro
