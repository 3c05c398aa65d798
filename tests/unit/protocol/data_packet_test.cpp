#include "protocol/data_packet.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "protocol/messages.h"

namespace squtun::protocol {
namespace {

using Bytes = std::vector<std::uint8_t>;

crypto::Key patterned_key(std::uint8_t seed) {
  crypto::Key key;
  for (std::size_t i = 0; i < key.size(); ++i) key.data()[i] = static_cast<std::uint8_t>(seed + i);
  return key;
}

Random patterned_random(std::uint8_t seed) {
  Random r{};
  for (std::size_t i = 0; i < r.size(); ++i) r[i] = static_cast<std::uint8_t>(seed * 17 + i);
  return r;
}

Bytes payload(std::size_t n, std::uint8_t seed = 0) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 13);
  return b;
}

// Both ends of one session, plus an unrelated session with the same indices.
class DataPacketTest : public ::testing::Test {
 protected:
  static constexpr std::uint32_t kInitiatorIndex = 0x11111111;
  static constexpr std::uint32_t kResponderIndex = 0x22222222;

  HandshakeCrypto hs{patterned_key(1)};
  Session initiator{kInitiatorIndex, kResponderIndex,
                    hs.derive_session_keys(patterned_random(1), patterned_random(2), Role::Initiator),
                    Role::Initiator, Duration{0}};
  Session responder{kResponderIndex, kInitiatorIndex,
                    hs.derive_session_keys(patterned_random(1), patterned_random(2), Role::Responder),
                    Role::Responder, Duration{0}};
  Session other{kResponderIndex, kInitiatorIndex,
                hs.derive_session_keys(patterned_random(3), patterned_random(2), Role::Responder),
                Role::Responder, Duration{0}};
  crypto::AeadContext aead;

  Bytes seal(const Session& s, std::uint64_t counter, const Bytes& plain) {
    Bytes out(plain.size() + kDataOverhead);
    const std::size_t n = seal_packet(aead, s, counter, plain, out);
    EXPECT_EQ(n, out.size());
    return out;
  }

  std::optional<Bytes> open(const Session& s, const Bytes& message) {
    Bytes out(message.size());
    const auto n = open_packet(aead, s, message, out);
    if (!n) return std::nullopt;
    out.resize(*n);
    return out;
  }
};

TEST_F(DataPacketTest, SealOpenRoundTrip) {
  for (std::size_t size : {1u, 20u, 64u, 1420u, 9000u}) {
    const Bytes plain = payload(size, static_cast<std::uint8_t>(size));
    const Bytes msg = seal(initiator, 42, plain);
    ASSERT_EQ(msg.size(), size + kDataOverhead);
    const auto header = decode_data_header(msg);
    ASSERT_TRUE(header);
    EXPECT_EQ(header->receiver_index, kResponderIndex);
    EXPECT_EQ(header->counter, 42u);
    // The plaintext does not appear in the clear.
    EXPECT_FALSE(std::equal(plain.begin(), plain.end(), msg.begin() + kDataHeaderSize));
    const auto opened = open(responder, msg);
    ASSERT_TRUE(opened) << size;
    EXPECT_EQ(*opened, plain);
  }
  // And the other direction.
  const Bytes plain = payload(100, 9);
  const auto back = open(initiator, seal(responder, 0, plain));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, plain);
}

TEST_F(DataPacketTest, EmptyKeepaliveRoundTrip) {
  const Bytes msg = seal(initiator, 7, {});
  EXPECT_EQ(msg.size(), kDataOverhead);
  EXPECT_EQ(classify(msg), MessageType::Data);
  const auto opened = open(responder, msg);
  ASSERT_TRUE(opened);
  EXPECT_TRUE(opened->empty());
  Bytes tampered = msg;
  tampered.back() ^= 1;
  EXPECT_FALSE(open(responder, tampered));
}

TEST_F(DataPacketTest, SealAndOpenInPlace) {
  const Bytes plain = payload(1000, 3);
  Bytes buf(plain.size() + kDataOverhead);
  std::copy(plain.begin(), plain.end(), buf.begin() + kDataHeaderSize);
  const std::span<std::uint8_t> all(buf);
  const std::size_t n = seal_packet(aead, initiator, 5, all.subspan(kDataHeaderSize, plain.size()), all);
  ASSERT_EQ(n, buf.size());
  // Same result as sealing out of place.
  EXPECT_EQ(buf, seal(initiator, 5, plain));
  const auto m = open_packet(aead, responder, buf, all.subspan(kDataHeaderSize));
  ASSERT_TRUE(m);
  ASSERT_EQ(*m, plain.size());
  EXPECT_TRUE(std::equal(plain.begin(), plain.end(), buf.begin() + kDataHeaderSize));
}

TEST_F(DataPacketTest, OutputTooSmall) {
  const Bytes plain = payload(100);
  Bytes out(plain.size() + kDataOverhead - 1);
  EXPECT_EQ(seal_packet(aead, initiator, 0, plain, out), 0u);
  const Bytes msg = seal(initiator, 0, plain);
  Bytes small(plain.size() - 1);
  EXPECT_FALSE(open_packet(aead, responder, msg, small));
}

TEST_F(DataPacketTest, WrongSessionFails) {
  const Bytes msg = seal(initiator, 1, payload(50));
  EXPECT_FALSE(open(other, msg));  // same indices, other keys
  HandshakeCrypto stranger{patterned_key(9)};
  Session wrong_psk{kResponderIndex, kInitiatorIndex,
                    stranger.derive_session_keys(patterned_random(1), patterned_random(2), Role::Responder),
                    Role::Responder, Duration{0}};
  EXPECT_FALSE(open(wrong_psk, msg));
  EXPECT_TRUE(open(responder, msg));
}

TEST_F(DataPacketTest, WrongIndexFails) {
  const Bytes msg = seal(initiator, 1, payload(50));
  Session elsewhere{kResponderIndex + 1, kInitiatorIndex, responder.keys, Role::Responder, Duration{0}};
  EXPECT_FALSE(open(elsewhere, msg));
}

TEST_F(DataPacketTest, TamperedHeaderFails) {
  const Bytes msg = seal(initiator, 0x0102030405060708ULL, payload(64));
  ASSERT_TRUE(open(responder, msg));
  for (std::size_t pos = 0; pos < kDataHeaderSize; ++pos) {
    Bytes bad = msg;
    bad[pos] ^= 0x01;
    EXPECT_FALSE(open(responder, bad)) << pos;
  }
  // A receiver that holds the same keys under the tampered index still refuses: the index
  // is authenticated data.
  Bytes bad = msg;
  bad[4] ^= 0x01;
  Session same_keys{kResponderIndex ^ 0x01, kInitiatorIndex, responder.keys, Role::Responder,
                    Duration{0}};
  EXPECT_FALSE(open(same_keys, bad));
}

TEST_F(DataPacketTest, TamperedBodyOrTagFails) {
  const Bytes msg = seal(initiator, 9, payload(40));
  for (std::size_t pos = kDataHeaderSize; pos < msg.size(); ++pos) {
    Bytes bad = msg;
    bad[pos] ^= 0x80;
    EXPECT_FALSE(open(responder, bad)) << pos;
  }
  // Truncated or extended messages fail too.
  Bytes shorter(msg.begin(), msg.end() - 1);
  EXPECT_FALSE(open(responder, shorter));
  Bytes longer = msg;
  longer.push_back(0);
  EXPECT_FALSE(open(responder, longer));
}

TEST_F(DataPacketTest, FailedOpenLeavesNoPlaintext) {
  const Bytes plain = payload(64, 1);
  Bytes msg = seal(initiator, 3, plain);
  msg.back() ^= 1;
  Bytes out(msg.size(), 0xcc);
  EXPECT_FALSE(open_packet(aead, responder, msg, out));
  EXPECT_FALSE(std::search(out.begin(), out.end(), plain.begin(), plain.begin() + 16) != out.end());
}

TEST_F(DataPacketTest, ReflectedPacketDoesNotOpen) {
  // A session whose indices make the header check pass for our own packets: only the key
  // separation by direction can reject a reflection.
  Session self{kResponderIndex, kResponderIndex, initiator.keys, Role::Initiator, Duration{0}};
  Session self_rx{kResponderIndex, kInitiatorIndex, initiator.keys, Role::Initiator, Duration{0}};
  const Bytes msg = seal(self, 1, payload(80));
  EXPECT_FALSE(open(self, msg));
  EXPECT_FALSE(open(self_rx, msg));
  const Bytes keepalive = seal(self, 2, {});
  EXPECT_FALSE(open(self, keepalive));
  // Whereas the peer opens it.
  EXPECT_TRUE(open(responder, msg));
}

TEST_F(DataPacketTest, CounterIsTheNonce) {
  const Bytes plain = payload(32);
  const Bytes a = seal(initiator, 1, plain);
  const Bytes b = seal(initiator, 2, plain);
  EXPECT_FALSE(std::equal(a.begin() + kDataHeaderSize, a.end(), b.begin() + kDataHeaderSize));
  // Moving the body of counter 2 under header 1 fails.
  Bytes spliced = a;
  std::copy(b.begin() + kDataHeaderSize, b.end(), spliced.begin() + kDataHeaderSize);
  EXPECT_FALSE(open(responder, spliced));
}

TEST_F(DataPacketTest, MaxInnerPacket) {
  const Bytes plain = payload(kMaxInnerPacket, 5);
  const Bytes msg = seal(initiator, 11, plain);
  EXPECT_EQ(msg.size() + 8 + 20, 65535u);
  const auto opened = open(responder, msg);
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, plain);
}

}  // namespace
}  // namespace squtun::protocol
