#include "tun/gso_splitter.h"

#include <gtest/gtest.h>

#include <vector>

#include "offload_packets.h"

namespace squtun::tun {
namespace {

using namespace testing;

std::uint8_t gso_type_for(const Spec& s) { return s.udp ? kGsoUdpL4 : s.v6 ? kGsoTcpV6 : kGsoTcpV4; }

VnetHeader gso_header(const Spec& s, const Bytes& packet, std::uint16_t mss) {
  const auto l4 = static_cast<std::uint16_t>(l4_offset(packet));
  return VnetHeader{kVnetFlagNeedsCsum,
                    gso_type_for(s),
                    static_cast<std::uint16_t>(payload_offset(packet)),
                    mss,
                    l4,
                    static_cast<std::uint16_t>(s.udp ? 6 : 16)};
}

std::vector<Bytes> split_all(GsoSplitter& splitter, std::size_t out_size = 70000) {
  std::vector<Bytes> segments;
  Bytes out(out_size);
  while (const std::size_t n = splitter.next(out))
    segments.emplace_back(out.begin(), out.begin() + static_cast<long>(n));
  return segments;
}

// Splits a super-packet of `payload` bytes at mss and checks every segment against what
// the kernel would have sent.
std::vector<Bytes> split_and_check(const Spec& s, std::size_t payload, std::uint16_t mss) {
  const Bytes data = payload_bytes(payload, 3);
  const Bytes super = build(s, data, true);
  GsoSplitter splitter;
  EXPECT_EQ(splitter.start(gso_header(s, super, mss), super), SplitStatus::Ok);
  const std::size_t headers = payload_offset(super);
  const std::size_t expected = payload == 0 ? 1 : (payload + mss - 1) / mss;
  EXPECT_EQ(splitter.segment_count(), expected);
  EXPECT_EQ(splitter.max_segment_size(), headers + std::min<std::size_t>(mss, payload));
  const std::vector<Bytes> segments = split_all(splitter);
  EXPECT_EQ(splitter.status(), SplitStatus::Ok);
  EXPECT_EQ(segments.size(), expected);
  Bytes joined;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const Bytes& seg = segments[i];
    const bool last = i + 1 == segments.size();
    EXPECT_TRUE(valid(seg)) << "segment " << i;
    EXPECT_LE(seg.size(), headers + mss);
    if (!last) {
      EXPECT_EQ(seg.size(), headers + mss);
    }
    if (!s.v6) {
      EXPECT_EQ(get16(seg, 4), static_cast<std::uint16_t>(s.id + i)) << "IPv4 id";
    }
    if (!s.udp) {
      EXPECT_EQ(tcp_seq(seg), static_cast<std::uint32_t>(s.seq + i * mss));
    }
    joined.insert(joined.end(), seg.begin() + static_cast<long>(headers), seg.end());
    // Everything but lengths, ids, sequence numbers, flags and checksums is unchanged.
    EXPECT_EQ(seg[s.v6 ? 7 : 8], s.ttl);
    EXPECT_EQ(get16(seg, l4_offset(seg)), s.sport);
  }
  EXPECT_EQ(joined, data);
  return segments;
}

TEST(GsoSplitterTest, Tso4EdgeSizes) {
  for (const std::size_t payload : {1u, 1380u, 1381u, 2760u, 4140u, 4147u, 65535u - 40u}) {
    SCOPED_TRACE(payload);
    split_and_check(Spec{}, payload, 1380);
  }
}

TEST(GsoSplitterTest, OneBytePayloadSegments) {
  const auto segments = split_and_check(Spec{}, 5, 1);
  EXPECT_EQ(segments.size(), 5u);
  for (const auto& s : segments) EXPECT_EQ(s.size(), 41u);
}

TEST(GsoSplitterTest, Tso6EdgeSizes) {
  for (const std::size_t payload : {1u, 1360u, 1361u, 4080u, 4083u, 65535u - 20u}) {
    SCOPED_TRACE(payload);
    split_and_check(v6_spec(), payload, 1360);
  }
}

TEST(GsoSplitterTest, UsoV4AndV6) {
  Spec v4;
  v4.udp = true;
  for (const std::size_t payload : {1u, 1200u, 1201u, 3600u, 3650u, 65535u - 28u}) {
    SCOPED_TRACE(payload);
    split_and_check(v4, payload, 1200);
    split_and_check(v6_spec(true), payload, 1200);
  }
}

TEST(GsoSplitterTest, IpOptionsAndTcpOptions) {
  Spec s;
  s.ip_options = {0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00};   // router alert, NOPs, EOL
  s.tcp_options = {0x01, 0x01, 0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 2};  // NOP NOP timestamps
  const auto segments = split_and_check(s, 3000, 1000);
  ASSERT_EQ(segments.size(), 3u);
  EXPECT_EQ(ip_header_length(segments[2]), 28u);
  EXPECT_EQ(payload_offset(segments[2]), 28u + 32u);
}

TEST(GsoSplitterTest, SequenceNumbersWrapAround) {
  Spec s;
  s.seq = 0xffffffffu - 1000;
  const auto segments = split_and_check(s, 4000, 1000);
  ASSERT_EQ(segments.size(), 4u);
  EXPECT_EQ(tcp_seq(segments[1]), 0xffffffffu - 1000 + 1000);
  EXPECT_EQ(tcp_seq(segments[2]), 999u);
  EXPECT_EQ(tcp_seq(segments[3]), 1999u);
}

TEST(GsoSplitterTest, IpIdWrapsAround) {
  Spec s;
  s.id = 0xffff;
  const auto segments = split_and_check(s, 3000, 1000);
  EXPECT_EQ(get16(segments[1], 4), 0u);
}

TEST(GsoSplitterTest, FinPshOnlyLastCwrOnlyFirst) {
  Spec s;
  s.flags = kAck | kPsh | kFin | kCwr | kEce;
  const auto segments = split_and_check(s, 2500, 1000);
  ASSERT_EQ(segments.size(), 3u);
  EXPECT_EQ(tcp_flags(segments[0]), kAck | kCwr | kEce);
  EXPECT_EQ(tcp_flags(segments[1]), kAck | kEce);
  EXPECT_EQ(tcp_flags(segments[2]), kAck | kPsh | kFin | kEce);
}

TEST(GsoSplitterTest, SingleSegmentKeepsAllFlags) {
  Spec s;
  s.flags = kAck | kPsh | kFin | kCwr;
  const auto segments = split_and_check(s, 100, 1000);
  ASSERT_EQ(segments.size(), 1u);
  EXPECT_EQ(tcp_flags(segments[0]), s.flags);
}

TEST(GsoSplitterTest, HdrLenIsNotTrusted) {
  const Bytes super = build(Spec{}, payload_bytes(3000), true);
  for (const std::uint16_t hdr_len : {0, 1, 54, 1500, 65535}) {
    VnetHeader h = gso_header(Spec{}, super, 1000);
    h.hdr_len = hdr_len;
    h.csum_start = 7;  // also only a hint when segmenting
    GsoSplitter splitter;
    ASSERT_EQ(splitter.start(h, super), SplitStatus::Ok);
    const auto segments = split_all(splitter);
    ASSERT_EQ(segments.size(), 3u);
    for (const auto& seg : segments) EXPECT_TRUE(valid(seg));
  }
}

TEST(GsoSplitterTest, EcnGsoBitAccepted) {
  const Bytes super = build(Spec{}, payload_bytes(3000), true);
  VnetHeader h = gso_header(Spec{}, super, 1000);
  h.gso_type |= kGsoEcn;
  GsoSplitter splitter;
  ASSERT_EQ(splitter.start(h, super), SplitStatus::Ok);
  EXPECT_EQ(split_all(splitter).size(), 3u);
}

TEST(GsoSplitterTest, NoneWithoutNeedsCsumIsCopied) {
  Bytes any = payload_bytes(77);  // not even IP: the kernel sent it, we pass it on
  GsoSplitter splitter;
  ASSERT_EQ(splitter.start(VnetHeader{}, any), SplitStatus::Ok);
  const auto out = split_all(splitter);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], any);
}

TEST(GsoSplitterTest, NoneWithNeedsCsumCompletesChecksum) {
  for (const Spec& s : {Spec{}, v6_spec(), v6_spec(true)}) {
    const Bytes full = build(s, payload_bytes(333), false);
    const Bytes partial = build(s, payload_bytes(333), true);
    const auto l4 = static_cast<std::uint16_t>(l4_offset(partial));
    const VnetHeader h{kVnetFlagNeedsCsum, kGsoNone, 0, 0, l4, static_cast<std::uint16_t>(s.udp ? 6 : 16)};
    GsoSplitter splitter;
    ASSERT_EQ(splitter.start(h, partial), SplitStatus::Ok);
    const auto out = split_all(splitter);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], full);
  }
}

TEST(GsoSplitterTest, NeedsCsumOffsetsOutsidePacketRefused) {
  const Bytes p = build(Spec{}, payload_bytes(10), true);
  GsoSplitter splitter;
  const auto end = static_cast<std::uint16_t>(p.size());
  EXPECT_EQ(
      splitter.start(VnetHeader{kVnetFlagNeedsCsum, 0, 0, 0, static_cast<std::uint16_t>(end - 1), 0}, p),
      SplitStatus::BadChecksumOffsets);
  Bytes out(100000);
  EXPECT_EQ(splitter.next(out), 0u);
  EXPECT_EQ(
      splitter.start(VnetHeader{kVnetFlagNeedsCsum, 0, 0, 0, 20, static_cast<std::uint16_t>(end - 21)}, p),
      SplitStatus::BadChecksumOffsets);
  EXPECT_EQ(
      splitter.start(VnetHeader{kVnetFlagNeedsCsum, 0, 0, 0, 20, static_cast<std::uint16_t>(end - 22)}, p),
      SplitStatus::Ok);
  EXPECT_EQ(splitter.start(VnetHeader{kVnetFlagNeedsCsum, 0, 0, 0, 65535, 65535}, p),
            SplitStatus::BadChecksumOffsets);
}

SplitStatus start_status(const VnetHeader& h, const Bytes& p) {
  GsoSplitter splitter;
  const SplitStatus s = splitter.start(h, p);
  Bytes out(100000);
  if (s != SplitStatus::Ok) {
    EXPECT_EQ(splitter.next(out), 0u);
  }
  return s;
}

TEST(GsoSplitterTest, MalformedPacketsRefused) {
  const Spec s;
  const Bytes good = build(s, payload_bytes(3000), true);
  const VnetHeader h = gso_header(s, good, 1000);
  EXPECT_EQ(start_status(h, good), SplitStatus::Ok);
  EXPECT_EQ(start_status(h, Bytes{}), SplitStatus::TooShort);
  EXPECT_EQ(start_status(VnetHeader{}, Bytes{}), SplitStatus::TooShort);
  EXPECT_EQ(start_status(h, Bytes(good.begin(), good.begin() + 19)), SplitStatus::TooShort);
  EXPECT_EQ(start_status(h, Bytes(good.begin(), good.begin() + 30)), SplitStatus::LengthMismatch);

  Bytes p = good;
  p[0] = 0x55;
  EXPECT_EQ(start_status(h, p), SplitStatus::NotIp);
  p = good;
  p[0] = 0x44;
  EXPECT_EQ(start_status(h, p), SplitStatus::BadIpHeader);
  p = good;
  put16(p, 2, static_cast<std::uint16_t>(p.size() - 1));
  EXPECT_EQ(start_status(h, p), SplitStatus::LengthMismatch);
  p = good;
  put16(p, 6, 0x2000);  // MF
  EXPECT_EQ(start_status(h, p), SplitStatus::Fragment);
  p = good;
  p[20 + 12] = 0x40;  // data offset 16
  EXPECT_EQ(start_status(h, p), SplitStatus::BadL4Header);
  p = good;
  p[9] = 1;  // ICMP
  EXPECT_EQ(start_status(h, p), SplitStatus::WrongProtocol);

  VnetHeader bad = h;
  bad.gso_size = 0;
  EXPECT_EQ(start_status(bad, good), SplitStatus::BadGsoSize);
  for (const std::uint8_t type : {kGsoTcpV6, kGsoUdpL4}) {
    bad = h;
    bad.gso_type = type;
    EXPECT_EQ(start_status(bad, good), SplitStatus::HeaderMismatch);
  }
  for (const std::uint8_t type : {2, 3, 6, 0x7f}) {
    bad = h;
    bad.gso_type = type;
    EXPECT_EQ(start_status(bad, good), SplitStatus::UnsupportedGsoType);
  }
}

TEST(GsoSplitterTest, TcpHeaderBeyondPacketRefused) {
  Spec s;
  Bytes p = build(s, {}, true);  // 40 bytes, no payload
  p[20 + 12] = 0xf0;             // data offset 60 > 20 available
  EXPECT_EQ(start_status(gso_header(s, p, 100), p), SplitStatus::TooShort);
  Spec u;
  u.udp = true;
  Bytes q = build(u, {}, true);
  q.resize(26);
  put16(q, 2, 26);
  EXPECT_EQ(start_status(gso_header(u, q, 100), q), SplitStatus::TooShort);
}

TEST(GsoSplitterTest, Ipv6ExtensionHeadersRefused) {
  const Spec s = v6_spec();
  Bytes p = build(s, payload_bytes(3000), true);
  p[6] = 0;  // hop-by-hop options
  EXPECT_EQ(start_status(gso_header(s, p, 1000), p), SplitStatus::ExtensionHeaders);
  p[6] = 44;  // fragment
  EXPECT_EQ(start_status(gso_header(s, p, 1000), p), SplitStatus::ExtensionHeaders);
  p = build(s, payload_bytes(3000), true);
  EXPECT_EQ(start_status(gso_header(s, p, 1000), p), SplitStatus::Ok);
  Spec v4 = s;
  v4.v6 = false;
  EXPECT_EQ(start_status(gso_header(v4, p, 1000), p), SplitStatus::HeaderMismatch);
}

TEST(GsoSplitterTest, OutputTooSmallIsDistinct) {
  const Spec s;
  const Bytes super = build(s, payload_bytes(3000), true);
  GsoSplitter splitter;
  ASSERT_EQ(splitter.start(gso_header(s, super, 1000), super), SplitStatus::Ok);
  Bytes out(splitter.max_segment_size());
  EXPECT_EQ(splitter.next(out), 1040u);
  EXPECT_EQ(splitter.next(std::span(out).first(1039)), 0u);
  EXPECT_EQ(splitter.status(), SplitStatus::OutputTooSmall);
  EXPECT_EQ(splitter.next(out), 0u);                                              // the packet is abandoned
  ASSERT_EQ(splitter.start(gso_header(s, super, 1000), super), SplitStatus::Ok);  // a new one starts clean
  EXPECT_EQ(split_all(splitter, 1040).size(), 3u);
}

}  // namespace
}  // namespace squtun::tun
