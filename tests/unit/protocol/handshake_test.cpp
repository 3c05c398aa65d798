#include "protocol/handshake.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace squtun::protocol {
namespace {

crypto::Key patterned_key(std::uint8_t seed) {
  crypto::Key key;
  for (std::size_t i = 0; i < key.size(); ++i) key.data()[i] = static_cast<std::uint8_t>(seed + i);
  return key;
}

Random patterned_random(std::uint8_t seed) {
  Random r{};
  for (std::size_t i = 0; i < r.size(); ++i) r[i] = static_cast<std::uint8_t>(seed * 31 + i);
  return r;
}

constexpr std::uint64_t kTimestamp = 1'700'000'000'123'456'789ULL;

class HandshakeTest : public ::testing::Test {
 protected:
  HandshakeCrypto initiator{patterned_key(1)};
  HandshakeCrypto responder{patterned_key(1)};
  HandshakeCrypto stranger{patterned_key(2)};
};

TEST_F(HandshakeTest, InitiationVerifies) {
  const Initiation m = initiator.make_initiation(0x1234, patterned_random(1), kTimestamp);
  EXPECT_EQ(m.sender_index, 0x1234u);
  EXPECT_EQ(m.random, patterned_random(1));
  EXPECT_EQ(m.timestamp_ns, kTimestamp);
  EXPECT_TRUE(responder.verify(m));
  EXPECT_TRUE(initiator.verify(m));
  const auto decoded = decode_initiation(encode(m));
  ASSERT_TRUE(decoded);
  EXPECT_TRUE(responder.verify(*decoded));
}

TEST_F(HandshakeTest, ResponseVerifies) {
  const Initiation i = initiator.make_initiation(0x1234, patterned_random(1), kTimestamp);
  const Response r = responder.make_response(0x5678, patterned_random(2), i);
  EXPECT_EQ(r.sender_index, 0x5678u);
  EXPECT_EQ(r.receiver_index, 0x1234u);
  EXPECT_EQ(r.random, patterned_random(2));
  EXPECT_TRUE(initiator.verify(r, i));
  const auto decoded = decode_response(encode(r));
  ASSERT_TRUE(decoded);
  EXPECT_TRUE(initiator.verify(*decoded, i));
}

TEST_F(HandshakeTest, MacsDependOnEveryField) {
  const Initiation base = initiator.make_initiation(7, patterned_random(1), kTimestamp);
  Initiation m = base;
  m.sender_index ^= 1;
  EXPECT_FALSE(responder.verify(m));
  m = base;
  m.random[31] ^= 1;
  EXPECT_FALSE(responder.verify(m));
  m = base;
  m.timestamp_ns += 1;
  EXPECT_FALSE(responder.verify(m));
  m = base;
  m.mac[0] ^= 1;
  EXPECT_FALSE(responder.verify(m));
}

TEST_F(HandshakeTest, EveryBitFlipInInitiationFails) {
  const InitiationBytes good = encode(initiator.make_initiation(0xa1b2c3d4, patterned_random(3), kTimestamp));
  ASSERT_TRUE(responder.verify(*decode_initiation(good)));
  for (std::size_t byte = 0; byte < good.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      InitiationBytes bad = good;
      bad[byte] ^= static_cast<std::uint8_t>(1u << bit);
      const auto decoded = decode_initiation(bad);
      EXPECT_FALSE(decoded && responder.verify(*decoded)) << "byte " << byte << " bit " << bit;
    }
  }
}

TEST_F(HandshakeTest, EveryBitFlipInResponseFails) {
  const Initiation i = initiator.make_initiation(0xa1b2c3d4, patterned_random(3), kTimestamp);
  const ResponseBytes good = encode(responder.make_response(0x01020304, patterned_random(4), i));
  ASSERT_TRUE(initiator.verify(*decode_response(good), i));
  for (std::size_t byte = 0; byte < good.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      ResponseBytes bad = good;
      bad[byte] ^= static_cast<std::uint8_t>(1u << bit);
      const auto decoded = decode_response(bad);
      EXPECT_FALSE(decoded && initiator.verify(*decoded, i)) << "byte " << byte << " bit " << bit;
    }
  }
}

TEST_F(HandshakeTest, ResponseBoundToItsInitiation) {
  const Initiation i1 = initiator.make_initiation(0x1111, patterned_random(1), kTimestamp);
  const Initiation i2 = initiator.make_initiation(0x2222, patterned_random(2), kTimestamp + 1);
  const Response r1 = responder.make_response(0x3333, patterned_random(3), i1);
  EXPECT_TRUE(initiator.verify(r1, i1));
  EXPECT_FALSE(initiator.verify(r1, i2));
  // Even with the same index, a different random or timestamp breaks the binding.
  Initiation same_index = initiator.make_initiation(0x1111, patterned_random(9), kTimestamp);
  EXPECT_FALSE(initiator.verify(r1, same_index));
  same_index = initiator.make_initiation(0x1111, patterned_random(1), kTimestamp + 1);
  EXPECT_FALSE(initiator.verify(r1, same_index));
  // A response whose receiver index was rewritten (re-MACed by nobody) fails.
  Response r = r1;
  r.receiver_index = 0x2222;
  EXPECT_FALSE(initiator.verify(r, i2));
}

TEST_F(HandshakeTest, ResponseCannotPassAsInitiationMac) {
  // The two MACs cover different layouts: an initiation's MAC is not a valid response MAC
  // for any field arrangement an attacker controls by copying.
  const Initiation i = initiator.make_initiation(0x1111, patterned_random(1), kTimestamp);
  Response forged{0x9999, i.sender_index, i.random, i.mac};
  EXPECT_FALSE(initiator.verify(forged, i));
}

TEST_F(HandshakeTest, DifferentPskFails) {
  const Initiation i = initiator.make_initiation(0x1111, patterned_random(1), kTimestamp);
  EXPECT_FALSE(stranger.verify(i));
  const Initiation si = stranger.make_initiation(0x1111, patterned_random(1), kTimestamp);
  EXPECT_FALSE(responder.verify(si));
  EXPECT_NE(si.mac, i.mac);
  const Response r = stranger.make_response(0x2222, patterned_random(2), i);
  EXPECT_FALSE(initiator.verify(r, i));
  EXPECT_TRUE(stranger.verify(r, i));
}

TEST_F(HandshakeTest, SessionKeysMatchCrosswise) {
  const Random ri = patterned_random(5);
  const Random rr = patterned_random(6);
  const SessionKeys ik = initiator.derive_session_keys(ri, rr, Role::Initiator);
  const SessionKeys rk = responder.derive_session_keys(ri, rr, Role::Responder);
  EXPECT_TRUE(ik.send.key == rk.receive.key);
  EXPECT_TRUE(ik.receive.key == rk.send.key);
  EXPECT_FALSE(ik.send.key == ik.receive.key);
  EXPECT_FALSE(rk.send.key == rk.receive.key);
  // The session keys are not the PSK either.
  EXPECT_FALSE(ik.send.key == patterned_key(1));
  EXPECT_FALSE(ik.receive.key == patterned_key(1));
}

TEST_F(HandshakeTest, DifferentRandomsGiveDifferentKeys) {
  const Random ri = patterned_random(5);
  const Random rr = patterned_random(6);
  const SessionKeys base = initiator.derive_session_keys(ri, rr, Role::Initiator);
  const SessionKeys other_i = initiator.derive_session_keys(patterned_random(7), rr, Role::Initiator);
  const SessionKeys other_r = initiator.derive_session_keys(ri, patterned_random(7), Role::Initiator);
  const SessionKeys swapped = initiator.derive_session_keys(rr, ri, Role::Initiator);
  for (const SessionKeys* k : {&other_i, &other_r, &swapped}) {
    EXPECT_FALSE(k->send.key == base.send.key);
    EXPECT_FALSE(k->receive.key == base.receive.key);
    EXPECT_FALSE(k->send.key == base.receive.key);
    EXPECT_FALSE(k->receive.key == base.send.key);
  }
  // A single bit of either random matters.
  Random ri2 = ri;
  ri2[0] ^= 1;
  EXPECT_FALSE(initiator.derive_session_keys(ri2, rr, Role::Initiator).send.key == base.send.key);
  // Same inputs, same keys (deterministic).
  EXPECT_TRUE(initiator.derive_session_keys(ri, rr, Role::Initiator).send.key == base.send.key);
  // A different PSK gives different keys for the same randoms.
  EXPECT_FALSE(stranger.derive_session_keys(ri, rr, Role::Initiator).send.key == base.send.key);
}

}  // namespace
}  // namespace squtun::protocol
