#include "tun/gro_coalescer.h"

#include <gtest/gtest.h>

#include <vector>

#include "offload_packets.h"
#include "tun/gso_splitter.h"

namespace squtun::tun {
namespace {

using namespace testing;

struct Write {
  VnetHeader header;
  Bytes packet;
};

// Runs one batch: the packets (copies kept by the caller for comparison) through a
// coalescer, and the writes it asks for, flattened.
std::vector<Write> coalesce(std::vector<Bytes>& packets, bool udp = true, GroLimits limits = {}) {
  GroCoalescer gro(udp, limits);
  gro.reset();
  for (auto& p : packets) EXPECT_TRUE(gro.add(p));
  std::vector<Write> writes;
  for (std::size_t i = 0; i < gro.write_count(); ++i) {
    const auto iov = gro.write(i);
    EXPECT_GE(iov.size(), 2u);
    EXPECT_EQ(iov[0].iov_len, kVnetHeaderSize);
    const auto* h = static_cast<const std::uint8_t*>(iov[0].iov_base);
    Write w{*parse_vnet_header(std::span(h, kVnetHeaderSize)), {}};
    for (std::size_t j = 1; j < iov.size(); ++j) {
      const auto* b = static_cast<const std::uint8_t*>(iov[j].iov_base);
      w.packet.insert(w.packet.end(), b, b + iov[j].iov_len);
    }
    writes.push_back(std::move(w));
  }
  return writes;
}

std::vector<Bytes> split(const Write& w) {
  GsoSplitter splitter;
  EXPECT_EQ(splitter.start(w.header, w.packet), SplitStatus::Ok);
  std::vector<Bytes> out;
  Bytes buf(70000);
  while (const std::size_t n = splitter.next(buf))
    out.emplace_back(buf.begin(), buf.begin() + static_cast<long>(n));
  return out;
}

// count TCP segments of `size` payload bytes each, consecutive in sequence.
std::vector<Bytes> tcp_segments(Spec s, std::size_t count, std::size_t size, std::size_t last_size = 0) {
  std::vector<Bytes> out;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t n = i + 1 == count && last_size ? last_size : size;
    out.push_back(build(s, payload_bytes(n, static_cast<std::uint8_t>(i))));
    s.seq += static_cast<std::uint32_t>(n);
    s.id = static_cast<std::uint16_t>(s.id + 1);
  }
  return out;
}

std::vector<Bytes> udp_datagrams(Spec s, std::size_t count, std::size_t size, std::size_t last_size = 0) {
  s.udp = true;
  return tcp_segments(s, count, size, last_size);
}

// The super-packet is what the kernel expects, and splits back into exactly the inputs.
void expect_merged(const Write& w, const std::vector<Bytes>& originals, std::size_t from, std::size_t count) {
  const bool v6 = (originals[from][0] >> 4) == 6;
  const bool udp = originals[from][v6 ? 6 : 9] == 17;
  EXPECT_EQ(w.header.flags, kVnetFlagNeedsCsum);
  EXPECT_EQ(w.header.gso_type, udp ? kGsoUdpL4 : v6 ? kGsoTcpV6 : kGsoTcpV4);
  EXPECT_EQ(w.header.hdr_len, payload_offset(originals[from]));
  EXPECT_EQ(w.header.gso_size, originals[from].size() - payload_offset(originals[from]));
  EXPECT_EQ(w.header.csum_start, l4_offset(originals[from]));
  EXPECT_EQ(w.header.csum_offset, udp ? 6u : 16u);
  EXPECT_TRUE(lengths_ok(w.packet));
  EXPECT_TRUE(ip_checksum_ok(w.packet));
  const std::size_t l4 = l4_offset(w.packet);
  EXPECT_EQ(get16(w.packet, l4 + (udp ? 6 : 16)), ref_pseudo_sum(w.packet, w.packet.size() - l4));
  const auto segments = split(w);
  ASSERT_EQ(segments.size(), count);
  for (std::size_t i = 0; i < count; ++i) EXPECT_EQ(segments[i], originals[from + i]) << "segment " << i;
}

void expect_alone(const Write& w, const Bytes& original) {
  EXPECT_EQ(w.header, VnetHeader{});
  EXPECT_EQ(w.packet, original);
}

TEST(GroCoalescerTest, InOrderTcpSegmentsMerge) {
  for (const Spec& s : {Spec{}, v6_spec()}) {
    auto packets = tcp_segments(s, 10, 1380);
    const auto originals = packets;
    const auto writes = coalesce(packets);
    ASSERT_EQ(writes.size(), 1u);
    expect_merged(writes[0], originals, 0, 10);
    EXPECT_EQ(writes[0].packet.size(), payload_offset(originals[0]) + 13800);
  }
}

TEST(GroCoalescerTest, ShortLastSegmentMergesAndEndsGroup) {
  auto packets = tcp_segments(Spec{}, 4, 1000, 300);
  Spec next;
  next.seq = 1000 + 3300;
  next.id = 104;
  packets.push_back(build(next, payload_bytes(1000)));
  const auto originals = packets;
  const auto writes = coalesce(packets);
  ASSERT_EQ(writes.size(), 2u);
  expect_merged(writes[0], originals, 0, 4);
  expect_alone(writes[1], originals[4]);
}

TEST(GroCoalescerTest, LongerSegmentAfterShorterStartsAGroup) {
  auto packets = tcp_segments(Spec{}, 3, 1000);
  Spec s;
  s.seq = 4000;
  s.id = 103;
  packets.push_back(build(s, payload_bytes(1200)));  // longer than gso_size
  const auto originals = packets;
  const auto writes = coalesce(packets);
  ASSERT_EQ(writes.size(), 2u);
  expect_merged(writes[0], originals, 0, 3);
  expect_alone(writes[1], originals[3]);
}

TEST(GroCoalescerTest, ReorderedSegmentsDoNotMerge) {
  auto packets = tcp_segments(Spec{}, 4, 1000);
  std::swap(packets[1], packets[2]);  // 0 2 1 3: no segment follows its predecessor
  const auto originals = packets;
  const auto writes = coalesce(packets);
  ASSERT_EQ(writes.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) expect_alone(writes[i], originals[i]);
}

TEST(GroCoalescerTest, GapSplitsGroups) {
  auto packets = tcp_segments(Spec{}, 6, 1000);
  packets.erase(packets.begin() + 3);  // 0 1 2 _ 4 5
  const auto originals = packets;
  const auto writes = coalesce(packets);
  ASSERT_EQ(writes.size(), 2u);
  expect_merged(writes[0], originals, 0, 3);
  expect_merged(writes[1], originals, 3, 2);
}

TEST(GroCoalescerTest, DuplicateSegmentDoesNotMerge) {
  auto packets = tcp_segments(Spec{}, 3, 1000);
  packets.insert(packets.begin() + 2, packets[1]);  // 0 1 1 2
  const auto originals = packets;
  const auto writes = coalesce(packets);
  ASSERT_EQ(writes.size(), 2u);
  expect_merged(writes[0], originals, 0, 2);
  expect_merged(writes[1], originals, 2, 2);
}

TEST(GroCoalescerTest, DifferingHeadersDoNotMerge) {
  struct Change {
    const char* what;
    void (*apply)(Spec&);
  };
  const Change changes[] = {
      {"ttl", [](Spec& s) { s.ttl = 63; }},
      {"tos", [](Spec& s) { s.tos = 4; }},
      {"df", [](Spec& s) { s.df = false; }},
      {"reserved flag", [](Spec& s) { s.reserved_flag = true; }},  // found by fuzz_offload
      {"ack", [](Spec& s) { s.ack += 1; }},
      {"window", [](Spec& s) { s.window += 1; }},
      {"urgent pointer", [](Spec& s) { s.urgent = 0xffff; }},  // found by fuzz_offload
      {"options",
       [](Spec& s) {
         s.tcp_options = {1, 1, 1, 1};
       }},
      {"ece", [](Spec& s) { s.flags |= kEce; }},
      {"fin", [](Spec& s) { s.flags |= kFin; }},
      {"urg", [](Spec& s) { s.flags |= kUrg; }},
      {"no ack", [](Spec& s) { s.flags = kPsh; }},
      {"ip options",
       [](Spec& s) {
         s.ip_options = {1, 1, 1, 0};
       }},
      {"port", [](Spec& s) { s.sport += 1; }},
      {"address", [](Spec& s) { s.src[3] = 9; }},
  };
  for (const Change& change : changes) {
    SCOPED_TRACE(change.what);
    Spec first;
    Spec second;
    second.seq = first.seq + 1000;
    second.id = static_cast<std::uint16_t>(first.id + 1);
    change.apply(second);
    std::vector<Bytes> packets{build(first, payload_bytes(1000)), build(second, payload_bytes(1000))};
    const auto originals = packets;
    const auto writes = coalesce(packets);
    ASSERT_EQ(writes.size(), 2u);
    expect_alone(writes[0], originals[0]);
    expect_alone(writes[1], originals[1]);
  }
}

TEST(GroCoalescerTest, Ipv6FlowLabelAndHopLimitMustMatch) {
  for (int which = 0; which < 2; ++which) {
    auto packets = tcp_segments(v6_spec(), 2, 1000);
    packets[1][which == 0 ? 3 : 7] ^= 1;
    Spec s = v6_spec();
    s.seq += 1000;
    if (which == 0) s.flow_label ^= 1;
    if (which == 1) s.ttl ^= 1;
    packets[1] = build(s, payload_bytes(1000, 1));
    const auto writes = coalesce(packets);
    EXPECT_EQ(writes.size(), 2u) << which;
  }
}

TEST(GroCoalescerTest, BadChecksumsPassAloneAndKeepOrder) {
  for (const std::size_t corrupt_at : {10u, 36u, 500u}) {  // IP checksum, TCP checksum, payload
    auto packets = tcp_segments(Spec{}, 4, 1000);
    packets[2][corrupt_at] ^= 0x40;
    const auto originals = packets;
    const auto writes = coalesce(packets);
    ASSERT_EQ(writes.size(), 3u) << corrupt_at;
    expect_merged(writes[0], originals, 0, 2);
    expect_alone(writes[1], originals[2]);  // the kernel will drop it
    expect_alone(writes[2], originals[3]);  // not merged across the bad one
  }
}

TEST(GroCoalescerTest, PshEndsGroup) {
  auto packets = tcp_segments(Spec{}, 5, 1000);
  Spec s;
  s.seq = 3000;
  s.id = 102;
  s.flags = kAck | kPsh;
  packets[2] = build(s, payload_bytes(1000, 2));
  const auto originals = packets;
  const auto writes = coalesce(packets);
  ASSERT_EQ(writes.size(), 2u);
  expect_merged(writes[0], originals, 0, 3);
  EXPECT_EQ(tcp_flags(writes[0].packet), kAck | kPsh);
  expect_merged(writes[1], originals, 3, 2);
  EXPECT_EQ(tcp_flags(writes[1].packet), kAck);
}

TEST(GroCoalescerTest, SegmentLimit) {
  auto packets = tcp_segments(Spec{}, 100, 100);
  const auto originals = packets;
  const auto writes = coalesce(packets);
  ASSERT_EQ(writes.size(), 2u);
  expect_merged(writes[0], originals, 0, 64);
  expect_merged(writes[1], originals, 64, 36);
}

TEST(GroCoalescerTest, LengthLimit) {
  // 40 + 46 * 1400 = 64440 fits; one more segment would not.
  auto packets = tcp_segments(Spec{}, 50, 1400);
  const auto originals = packets;
  const auto writes = coalesce(packets);
  ASSERT_EQ(writes.size(), 2u);
  expect_merged(writes[0], originals, 0, 46);
  EXPECT_EQ(writes[0].packet.size(), 64440u);
  expect_merged(writes[1], originals, 46, 4);
  // Exactly 65535: 40 + 65495 bytes in 5 segments of 13099.
  auto exact = tcp_segments(Spec{}, 6, 13099);
  const auto exact_originals = exact;
  const auto exact_writes = coalesce(exact);
  ASSERT_EQ(exact_writes.size(), 2u);
  expect_merged(exact_writes[0], exact_originals, 0, 5);
  EXPECT_EQ(exact_writes[0].packet.size(), 65535u);
}

TEST(GroCoalescerTest, CustomLimits) {
  auto packets = tcp_segments(Spec{}, 10, 100);
  const auto originals = packets;
  const auto writes = coalesce(packets, true, GroLimits{16, 4, 65535});
  ASSERT_EQ(writes.size(), 3u);
  expect_merged(writes[2], originals, 8, 2);
}

TEST(GroCoalescerTest, InterleavedFlowsKeepPerFlowOrder) {
  Spec b;
  b.sport = 50000;
  auto a_packets = tcp_segments(Spec{}, 6, 1000);
  auto b_packets = tcp_segments(b, 6, 1000);
  std::vector<Bytes> packets;
  for (std::size_t i = 0; i < 6; ++i) {
    packets.push_back(a_packets[i]);
    packets.push_back(b_packets[i]);
  }
  // A pure ACK of flow A in the middle: A's segments after it must not overtake it.
  Spec ack;
  ack.seq = 1000 + 3000;
  packets.insert(packets.begin() + 6, build(ack, {}));
  const auto writes = coalesce(packets);
  ASSERT_EQ(writes.size(), 4u);
  expect_merged(writes[0], a_packets, 0, 3);
  expect_merged(writes[1], b_packets, 0, 6);
  expect_alone(writes[2], build(ack, {}));
  expect_merged(writes[3], a_packets, 3, 3);
}

TEST(GroCoalescerTest, UnreadablePacketEndsEveryGroup) {
  auto packets = tcp_segments(Spec{}, 4, 1000);
  Bytes fragment = build(Spec{}, payload_bytes(8));
  put16(fragment, 6, 0x2000);  // MF: its ports say nothing certain
  packets.insert(packets.begin() + 2, fragment);
  const auto originals = packets;
  const auto writes = coalesce(packets);
  ASSERT_EQ(writes.size(), 3u);
  expect_merged(writes[0], originals, 0, 2);
  expect_alone(writes[1], originals[2]);
  expect_merged(writes[2], originals, 3, 2);
}

TEST(GroCoalescerTest, NonIpAndTruncatedPassThroughUntouched) {
  std::vector<Bytes> packets{Bytes{}, Bytes{0x45}, payload_bytes(60), Bytes(20, 0x60)};
  Bytes icmp = build(Spec{}, payload_bytes(56));
  icmp[9] = 1;
  packets.push_back(icmp);
  const auto originals = packets;
  const auto writes = coalesce(packets);
  ASSERT_EQ(writes.size(), originals.size());
  for (std::size_t i = 0; i < originals.size(); ++i) expect_alone(writes[i], originals[i]);
}

TEST(GroCoalescerTest, Ipv4WithoutDfNeedsConsecutiveIds) {
  Spec s;
  s.df = false;
  auto packets = tcp_segments(s, 4, 1000);
  auto originals = packets;
  auto writes = coalesce(packets);
  ASSERT_EQ(writes.size(), 1u);
  expect_merged(writes[0], originals, 0, 4);
  packets = originals;
  Spec third = s;
  third.seq += 2000;
  third.id = 7;
  packets[2] = build(third, payload_bytes(1000, 2));
  writes = coalesce(packets);
  ASSERT_EQ(writes.size(), 3u);  // [0 1] [2] [3]: 3's id does not follow 2's either
  expect_merged(writes[0], originals, 0, 2);
}

TEST(GroCoalescerTest, UdpEqualSizesMergeShortLastEnds) {
  for (const Spec& base : {Spec{}, v6_spec()}) {
    auto packets = udp_datagrams(base, 5, 1200, 700);
    auto more = udp_datagrams(base, 2, 1200);
    packets.insert(packets.end(), more.begin(), more.end());
    const auto originals = packets;
    const auto writes = coalesce(packets);
    ASSERT_EQ(writes.size(), 2u);
    expect_merged(writes[0], originals, 0, 5);
    expect_merged(writes[1], originals, 5, 2);
  }
}

TEST(GroCoalescerTest, UdpOnlyWhenAsked) {
  auto packets = udp_datagrams(Spec{}, 3, 1200);
  const auto originals = packets;
  const auto writes = coalesce(packets, false);
  ASSERT_EQ(writes.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) expect_alone(writes[i], originals[i]);
}

TEST(GroCoalescerTest, UdpWithoutChecksumOrBadLengthNotMerged) {
  auto packets = udp_datagrams(Spec{}, 3, 1200);
  put16(packets[1], 26, 0);  // "no checksum"
  auto writes = coalesce(packets);
  EXPECT_EQ(writes.size(), 3u);
  packets = udp_datagrams(Spec{}, 3, 1200);
  Spec s;
  s.udp = true;
  s.udp_length_override = 100;
  packets[1] = build(s, payload_bytes(1200, 1));
  writes = coalesce(packets);
  EXPECT_EQ(writes.size(), 3u);
}

TEST(GroCoalescerTest, BatchCapacity) {
  auto packets = tcp_segments(Spec{}, 5, 100);
  GroCoalescer gro(true, GroLimits{4, 64, 65535});
  for (std::size_t i = 0; i < 4; ++i) EXPECT_TRUE(gro.add(packets[i]));
  EXPECT_FALSE(gro.add(packets[4]));
  EXPECT_EQ(gro.packet_count(), 4u);
  EXPECT_EQ(gro.write_count(), 1u);
  EXPECT_FALSE(gro.add(packets[4]));  // not after the writes were asked for
  gro.reset();
  EXPECT_TRUE(gro.add(packets[4]));
  EXPECT_EQ(gro.write_count(), 1u);
  EXPECT_TRUE(gro.write(1).empty());
}

TEST(GroCoalescerTest, ReusedAcrossBatches) {
  GroCoalescer gro(true);
  for (int round = 0; round < 3; ++round) {
    Spec s;
    s.seq = static_cast<std::uint32_t>(round * 100000);
    auto packets = tcp_segments(s, 8, 500);
    gro.reset();
    for (auto& p : packets) ASSERT_TRUE(gro.add(p));
    ASSERT_EQ(gro.write_count(), 1u);
    EXPECT_EQ(gro.write(0).size(), 1u + 8u);
  }
}

TEST(GroCoalescerTest, RoundTripSplitCoalesce) {
  // A super-packet from the kernel, split for the tunnel, coalesced at the other end,
  // comes out as the same super-packet's segments.
  for (const Spec& s : {Spec{}, v6_spec(), v6_spec(true)}) {
    Spec base = s;
    if (!s.udp) base.flags = kAck | kPsh;
    const Bytes super = build(base, payload_bytes(20000, 9), true);
    const std::uint16_t l4 = static_cast<std::uint16_t>(l4_offset(super));
    const VnetHeader h{kVnetFlagNeedsCsum,
                       s.udp  ? kGsoUdpL4
                       : s.v6 ? kGsoTcpV6
                              : kGsoTcpV4,
                       static_cast<std::uint16_t>(payload_offset(super)),
                       1300,
                       l4,
                       static_cast<std::uint16_t>(s.udp ? 6 : 16)};
    const auto segments = split(Write{h, super});
    ASSERT_EQ(segments.size(), 16u);
    auto packets = segments;
    const auto writes = coalesce(packets);
    ASSERT_EQ(writes.size(), 1u);
    expect_merged(writes[0], segments, 0, 16);
    EXPECT_EQ(writes[0].header.gso_size, 1300);
    EXPECT_EQ(writes[0].header.gso_type, h.gso_type);
  }
}

}  // namespace
}  // namespace squtun::tun
