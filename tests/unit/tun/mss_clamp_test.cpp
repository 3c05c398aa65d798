#include "tun/mss_clamp.h"

#include <gtest/gtest.h>

#include "offload_packets.h"

namespace squtun::tun {
namespace {

using testing::Bytes;
using testing::Spec;

constexpr std::size_t kTunnelMtu = 1420;

// MSS 1460, then NOP NOP SACK-permitted... as Linux sends: mss, sackOK, ts, nop, wscale.
Bytes linux_syn_options(std::uint16_t mss) {
  return {2, 4, static_cast<std::uint8_t>(mss >> 8), static_cast<std::uint8_t>(mss),
          4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};
}

Bytes syn(bool v6, std::uint8_t flags, Bytes options) {
  Spec spec = v6 ? testing::v6_spec() : Spec{};
  spec.flags = flags;
  spec.tcp_options = std::move(options);
  return testing::build(spec, {});
}

std::uint16_t announced_mss(const Bytes& packet) {
  return testing::get16(packet, testing::l4_offset(packet) + 22);
}

TEST(MssClamp, MaxMssLeavesRoomForIpAndTcpHeaders) {
  const MssClamp clamp(kTunnelMtu);
  EXPECT_EQ(clamp.max_mss(false), 1380);
  EXPECT_EQ(clamp.max_mss(true), 1360);
}

TEST(MssClamp, LowersSynAndSynAckOfBothFamiliesWithValidChecksums) {
  const MssClamp clamp(kTunnelMtu);
  for (const bool v6 : {false, true}) {
    for (const std::uint8_t flags : {testing::kSyn, std::uint8_t(testing::kSyn | testing::kAck)}) {
      Bytes p = syn(v6, flags, linux_syn_options(1460));
      ASSERT_TRUE(testing::valid(p));
      EXPECT_TRUE(clamp.apply(p));
      EXPECT_EQ(announced_mss(p), clamp.max_mss(v6)) << "v6=" << v6 << " flags=" << int{flags};
      EXPECT_TRUE(testing::valid(p)) << "checksum after clamping, v6=" << v6;
    }
  }
}

TEST(MssClamp, LeavesSmallerMssAlone) {
  const MssClamp clamp(kTunnelMtu);
  Bytes p = syn(false, testing::kSyn, linux_syn_options(1200));
  const Bytes before = p;
  EXPECT_FALSE(clamp.apply(p));
  EXPECT_EQ(p, before);
}

TEST(MssClamp, FindsMssAfterOtherOptions) {
  const MssClamp clamp(kTunnelMtu);
  Bytes p = syn(false, testing::kSyn, {1, 1, 4, 2, 2, 4, 0x05, 0xb4});
  EXPECT_TRUE(clamp.apply(p));
  EXPECT_EQ(testing::get16(p, testing::l4_offset(p) + 26), 1380);
  EXPECT_TRUE(testing::valid(p));
}

TEST(MssClamp, IgnoresSegmentsWithoutSynOrWithoutMss) {
  const MssClamp clamp(kTunnelMtu);
  Bytes ack = syn(false, testing::kAck, linux_syn_options(1460));
  Bytes no_mss = syn(false, testing::kSyn, {1, 1, 4, 2});
  Spec udp_spec;
  udp_spec.udp = true;
  Bytes udp = testing::build(udp_spec, testing::payload_bytes(40));
  for (Bytes* p : {&ack, &no_mss, &udp}) {
    const Bytes before = *p;
    EXPECT_FALSE(clamp.apply(*p));
    EXPECT_EQ(*p, before);
  }
}

TEST(MssClamp, RefusesMalformedOptionsAndTruncatedPackets) {
  const MssClamp clamp(kTunnelMtu);
  // An option length of 0 or 1 would loop forever or step backwards; an MSS option whose
  // length is not 4, or that runs past the header, is not one.
  for (const Bytes& options : {Bytes{3, 0, 0, 0}, Bytes{3, 1, 0, 0}, Bytes{1, 1, 2, 3},
                               Bytes{1, 1, 1, 2}, Bytes{2, 6, 5, 0xb4}}) {
    Bytes p = syn(false, testing::kSyn, options);
    const Bytes before = p;
    EXPECT_FALSE(clamp.apply(p));
    EXPECT_EQ(p, before);
  }
  Bytes p = syn(false, testing::kSyn, linux_syn_options(1460));
  for (std::size_t size = 0; size < p.size(); ++size) {
    Bytes cut(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(size));
    EXPECT_FALSE(clamp.apply(cut)) << "size " << size;
  }
}

TEST(MssClamp, ClampsIpInsideEthernetFramesOnly) {
  const MssClamp clamp(kTunnelMtu, 14);
  Bytes frame(14, 0);
  frame[12] = 0x08;
  const Bytes p = syn(false, testing::kSyn, linux_syn_options(1460));
  frame.insert(frame.end(), p.begin(), p.end());
  EXPECT_TRUE(clamp.apply(frame));
  EXPECT_EQ(testing::get16(frame, 14 + 20 + 22), 1380);
  frame[12] = 0x88;  // not an IP ethertype
  frame[13] = 0x47;
  const Bytes before = frame;
  EXPECT_FALSE(clamp.apply(frame));
  EXPECT_EQ(frame, before);
}

}  // namespace
}  // namespace squtun::tun
