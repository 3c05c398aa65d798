// The TUN offload code: GsoSplitter on a virtio_net_hdr and packet, GroCoalescer on a
// batch of packets. The first byte picks which (bit 0) and, for the coalescer, whether UDP
// is coalesced (bit 1) and the segment limit (bits 2-7).
//
//   splitter:  10 bytes of virtio_net_hdr (host order), then the packet
//   coalescer: chunks of [u16 length, little-endian][u8 fixes][bytes]; fixes bit 0 makes
//              the lengths agree, bit 1 the checksums valid, so inputs get past those checks
//
// Invariants. Splitter: every segment fits the announced size and is a valid packet (IP and
// L4 lengths, IPv4 header and L4 checksums, checked by a plain reference here), the segments'
// payloads are the packet's payload in order, and their headers the packet's but for
// lengths, ids, sequence numbers, flags and checksums. Coalescer: every packet is written
// exactly once, per flow in input order; unmerged packets untouched; a super-packet splits
// back into its segments, equal to the inputs but for IPv4 ids under DF and checksum fields.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_support.h"
#include "tun/gro_coalescer.h"
#include "tun/gso_splitter.h"

namespace {

using squtun::fuzz::Bytes;
using squtun::fuzz::Reader;
using squtun::fuzz::require;
using squtun::fuzz::violated;
using namespace squtun::tun;
using Span = std::span<const std::uint8_t>;

std::uint16_t get16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
void put16(std::uint8_t* p, std::size_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

std::uint16_t ref_checksum(Span data, std::uint64_t sum = 0) {
  for (std::size_t i = 0; i < data.size(); i += 2)
    sum += data[i] * 256u + (i + 1 < data.size() ? data[i + 1] : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

std::uint64_t ref_pseudo(Span p, const ip::Layout& l) {
  std::uint64_t sum = l.protocol + (p.size() - l.ip_header);
  const std::size_t at = l.v6 ? 8 : 12, words = l.v6 ? 16 : 4;
  for (std::size_t i = 0; i < words; ++i) sum += get16(&p[at + 2 * i]);
  return sum;
}

std::size_t check_at(const ip::Layout& l) { return l.ip_header + (l.protocol == ip::kTcp ? 16 : 6); }

bool valid_packet(Span p, ip::Layout& l) {
  if (ip::parse_layout(p, l) != SplitStatus::Ok) return false;
  if (!l.v6 && ref_checksum(p.first(l.ip_header)) != 0) return false;
  if (l.protocol == ip::kUdp && get16(&p[l.ip_header + 4]) != p.size() - l.ip_header) return false;
  return ref_checksum(p.subspan(l.ip_header), ref_pseudo(p, l)) == 0;
}

// Equal in the first n bytes but at the offsets in skip.
bool same_but(Span a, Span b, std::size_t n, const std::vector<std::size_t>& skip) {
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] != b[i] && std::find(skip.begin(), skip.end(), i) == skip.end()) return false;
  }
  return true;
}

// IP header bytes segmentation rewrites: lengths, and for IPv4 the checksum and the id (when
// the input's ids could not be recreated, they may differ too).
std::vector<std::size_t> ip_rewritten(const ip::Layout& l, bool ids) {
  if (l.v6) return {4, 5};
  if (ids) return {2, 3, 4, 5, 10, 11};
  return {2, 3, 10, 11};
}

// Segment seg of the super-packet `packet` (layout in) carries its payload from offset on,
// under the same headers but for what segmentation rewrites.
void check_segment(Span seg, Span packet, const ip::Layout& in, std::size_t offset) {
  ip::Layout l;
  require(valid_packet(seg, l));
  require(l.headers() == in.headers() && l.v6 == in.v6 && l.protocol == in.protocol);
  require(std::equal(seg.begin() + static_cast<long>(l.headers()), seg.end(),
                     packet.begin() + static_cast<long>(in.headers() + offset)));
  const std::size_t t = l.ip_header, c = check_at(l);
  std::vector<std::size_t> rewritten = ip_rewritten(l, true);
  rewritten.insert(rewritten.end(), {c, c + 1});
  if (l.protocol == ip::kTcp) {
    rewritten.insert(rewritten.end(), {t + 4, t + 5, t + 6, t + 7, t + 13});
  } else {
    rewritten.insert(rewritten.end(), {t + 4, t + 5});
  }
  require(same_but(seg, packet, l.headers(), rewritten));
}

void fuzz_splitter(Reader& r, Span rest) {
  Bytes raw = r.bytes(kVnetHeaderSize);
  raw.resize(kVnetHeaderSize);
  const VnetHeader h = *parse_vnet_header(raw);
  const Span packet = rest.subspan(std::min(rest.size(), kVnetHeaderSize));
  GsoSplitter s;
  if (s.start(h, packet) != SplitStatus::Ok) {
    Bytes out(packet.size() + 1);
    require(s.next(out) == 0 && s.segment_count() == 0);
    return;
  }
  const std::size_t max = s.max_segment_size();
  Bytes out(max + 16);
  std::size_t count = 0, offset = 0;
  const bool segmented = (h.gso_type & 0x7f) != kGsoNone;
  ip::Layout in;
  if (segmented) require(ip::parse_layout(packet, in) == SplitStatus::Ok);
  while (const std::size_t n = s.next(out)) {
    require(n <= max && ++count <= s.segment_count());
    const Span seg(out.data(), n);
    if (!segmented) {
      const std::size_t field = std::size_t{h.csum_start} + h.csum_offset;
      const bool csum = (h.flags & kVnetFlagNeedsCsum) != 0;
      require(n == packet.size() && same_but(seg, packet, n, {csum ? field : n, csum ? field + 1 : n}));
      continue;
    }
    check_segment(seg, packet, in, offset);
    offset += n - in.headers();
  }
  require(s.status() == SplitStatus::Ok && count == s.segment_count());
  if (segmented) require(offset == packet.size() - in.headers());
  // Too small a buffer is an error, distinct from the end.
  if (max > 0 && s.start(h, packet) == SplitStatus::Ok) {
    require(s.next(std::span(out).first(max - 1)) == 0 && s.status() == SplitStatus::OutputTooSmall);
  }
}

// Makes a fuzzed packet's lengths and checksums right, if asked, so it can get merged.
void fix_packet(std::span<std::uint8_t> p, std::uint8_t fixes) {
  if (p.empty()) return;
  const bool v6 = (p[0] >> 4) == 6;
  if ((fixes & 1) && !v6 && p.size() >= 20) put16(&p[2], p.size());
  if ((fixes & 1) && v6 && p.size() >= 40) put16(&p[4], p.size() - 40);
  ip::Layout l;
  if (ip::parse_layout(p, l) != SplitStatus::Ok) return;
  if ((fixes & 1) && l.protocol == ip::kUdp) put16(&p[l.ip_header + 4], p.size() - l.ip_header);
  if ((fixes & 2) == 0) return;
  if (!l.v6) {
    put16(&p[10], 0);
    put16(&p[10], ref_checksum(p.first(l.ip_header)));
  }
  put16(&p[check_at(l)], 0);
  const std::uint16_t c = ref_checksum(p.subspan(l.ip_header), ref_pseudo(p, l));
  put16(&p[check_at(l)], c == 0 && l.protocol == ip::kUdp ? 0xffff : c);
}

// Reused from run to run: a fresh megabyte each time would halve the fuzzer's speed.
Bytes& shared_arena() {
  static Bytes arena(1 << 20);
  return arena;
}

struct Batch {
  Bytes& arena = shared_arena();
  Bytes originals;
  std::vector<std::span<std::uint8_t>> packets;
  std::vector<std::size_t> write_of;  // per packet
  std::vector<std::size_t> position;  // in its write

  // Which packet an iovec piece starting at base belongs to.
  std::size_t owner(const void* base) const {
    const auto* b = static_cast<const std::uint8_t*>(base);
    for (std::size_t i = 0; i < packets.size(); ++i) {
      if (b >= packets[i].data() && b <= packets[i].data() + packets[i].size()) return i;
    }
    violated();
  }
  Span original(std::size_t i) const {
    return Span(originals).subspan(static_cast<std::size_t>(packets[i].data() - arena.data()),
                                   packets[i].size());
  }
  void place(std::size_t i, std::size_t w, std::size_t pos) {
    require(write_of[i] == ~std::size_t{0});  // written once only
    write_of[i] = w;
    position[i] = pos;
  }
};

void read_batch(Reader& r, Batch& b) {
  std::size_t used = 0;
  while (!r.done() && b.packets.size() < 100) {
    const std::size_t want = r.u16();
    const std::uint8_t fixes = r.u8();
    const Bytes bytes = r.bytes(std::min<std::size_t>(want, b.arena.size() - used - 1));
    std::span<std::uint8_t> p(b.arena.data() + used, bytes.size());
    std::copy(bytes.begin(), bytes.end(), p.begin());
    fix_packet(p, fixes);
    b.packets.push_back(p);
    used += bytes.size() + 1;  // a gap: an empty packet has an address of its own
  }
  b.originals.assign(b.arena.begin(), b.arena.begin() + static_cast<long>(used));
}

// A super-packet: the first packet whole, then only payloads; it splits back into the inputs.
void check_merged(Batch& b, const VnetHeader& h, std::span<const iovec> iov, std::size_t w) {
  require(h.gso_type != kGsoNone && iov.size() >= 3);
  Bytes super;
  std::vector<std::size_t> members;
  for (std::size_t j = 1; j < iov.size(); ++j) {
    const std::size_t i = b.owner(iov[j].iov_base);
    const std::size_t skip = j == 1 ? 0 : h.hdr_len;
    require(iov[j].iov_base == b.packets[i].data() + skip && iov[j].iov_len == b.packets[i].size() - skip);
    b.place(i, w, j - 1);
    members.push_back(i);
    const auto* p = static_cast<const std::uint8_t*>(iov[j].iov_base);
    super.insert(super.end(), p, p + iov[j].iov_len);
  }
  require(super.size() <= 65535);
  GsoSplitter s;
  require(s.start(h, super) == SplitStatus::Ok && s.segment_count() == members.size());
  Bytes out(s.max_segment_size());
  for (const std::size_t i : members) {
    const std::size_t n = s.next(out);
    const Span orig = b.original(i);
    ip::Layout l;
    require(n == orig.size() && valid_packet(Span(out.data(), n), l));
    const bool df = !l.v6 && (orig[6] & 0x40) != 0;
    std::vector<std::size_t> differ = ip_rewritten(l, df);
    differ.insert(differ.end(), {check_at(l), check_at(l) + 1});  // 0 and 0xffff are both valid
    require(same_but(Span(out.data(), n), orig, n, differ));
  }
  require(s.next(out) == 0 && s.status() == SplitStatus::Ok);
}

void check_write(GroCoalescer& gro, Batch& b, std::size_t w) {
  const auto iov = gro.write(w);
  require(iov.size() >= 2 && iov[0].iov_len == kVnetHeaderSize);
  const VnetHeader h =
      *parse_vnet_header(Span(static_cast<const std::uint8_t*>(iov[0].iov_base), kVnetHeaderSize));
  if (h == VnetHeader{}) {
    require(iov.size() == 2);
    const std::size_t i = b.owner(iov[1].iov_base);
    require(iov[1].iov_base == b.packets[i].data() && iov[1].iov_len == b.packets[i].size());
    require(std::equal(b.packets[i].begin(), b.packets[i].end(), b.original(i).begin()));  // untouched
    b.place(i, w, 0);
    return;
  }
  check_merged(b, h, iov, w);
}

enum class Flow { None, Known, Unknown };

Flow flow_of(Span p, ip::Layout& l) {
  const SplitStatus s = ip::parse_layout(p, l);
  if (s == SplitStatus::Ok) return Flow::Known;
  return s == SplitStatus::NotIp || s == SplitStatus::WrongProtocol ? Flow::None : Flow::Unknown;
}

bool same_flow(Span a, const ip::Layout& la, Span b, const ip::Layout& lb) {
  if (la.v6 != lb.v6 || la.protocol != lb.protocol) return false;
  const std::size_t at = la.v6 ? 8 : 12, n = la.v6 ? 32 : 8;
  return std::equal(&a[at], &a[at] + n, &b[at]) &&
         std::equal(&a[la.ip_header], &a[la.ip_header] + 4, &b[lb.ip_header]);
}

// Packets of one flow, and any packet whose flow cannot be read, keep their input order.
void check_order(const Batch& b) {
  const std::size_t n = b.packets.size();
  std::vector<ip::Layout> layouts(n);
  std::vector<Flow> flows(n);
  for (std::size_t i = 0; i < n; ++i) flows[i] = flow_of(b.original(i), layouts[i]);
  for (std::size_t i = 0; i < n; ++i) {
    require(b.write_of[i] != ~std::size_t{0});  // written at all
    for (std::size_t j = i + 1; j < n; ++j) {
      const bool unknown = (flows[i] == Flow::Unknown && flows[j] != Flow::None) ||
                           (flows[j] == Flow::Unknown && flows[i] != Flow::None);
      const bool same = flows[i] == Flow::Known && flows[j] == Flow::Known &&
                        same_flow(b.original(i), layouts[i], b.original(j), layouts[j]);
      if (!unknown && !same) continue;
      require(b.write_of[i] < b.write_of[j] ||
              (b.write_of[i] == b.write_of[j] && b.position[i] < b.position[j]));
    }
  }
}

void fuzz_coalescer(Reader& r, std::uint8_t mode) {
  Batch b;
  read_batch(r, b);
  const std::size_t max_packets = 64;
  GroCoalescer gro((mode & 2) != 0, GroLimits{max_packets, 1u + (mode >> 2), 65535});
  gro.reset();
  std::size_t added = 0;
  while (added < b.packets.size() && gro.add(b.packets[added])) ++added;
  require(added == std::min(b.packets.size(), max_packets));
  b.packets.resize(added);
  b.write_of.assign(added, ~std::size_t{0});
  b.position.assign(added, 0);
  require(gro.write_count() <= added);
  for (std::size_t w = 0; w < gro.write_count(); ++w) check_write(gro, b, w);
  check_order(b);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  Reader r(data + 1, size - 1);
  if ((data[0] & 1) == 0) {
    fuzz_splitter(r, Span(data + 1, size - 1));
  } else {
    fuzz_coalescer(r, data[0]);
  }
  return 0;
}
