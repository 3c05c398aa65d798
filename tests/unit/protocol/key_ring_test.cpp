#include "protocol/key_ring.h"

#include <gtest/gtest.h>

#include <string>

#include "crypto/key_file.h"

namespace squtun::protocol {
namespace {

// A key of 64 hex digits, all `digit`: distinct digits, distinct keys.
crypto::Key key_of(int digit) { return crypto::parse_key_text(std::string(64, "0123456789abcdef"[digit]), "test"); }

Initiation initiation_under(const crypto::Key& key) {
  Random random{};
  random[0] = 7;
  return HandshakeCrypto(key).make_initiation(1, random, 42);
}

TEST(KeyRingTest, OneKeyIsTheOnlyOneOffered) {
  const KeyRing ring(key_of(1), nullptr);
  EXPECT_EQ(ring.key_fingerprint(), crypto::key_fingerprint(key_of(1)));
  EXPECT_FALSE(ring.next_key_fingerprint());
  EXPECT_EQ(ring.for_initiation(0).fingerprint, ring.key_fingerprint());
  EXPECT_EQ(ring.for_initiation(1).fingerprint, ring.key_fingerprint());
}

TEST(KeyRingTest, AtStartTheNextKeyIsOfferedFirstThenTheOther) {
  const crypto::Key next = key_of(2);
  const KeyRing ring(key_of(1), &next);
  EXPECT_EQ(ring.next_key_fingerprint(), crypto::key_fingerprint(next));
  EXPECT_EQ(ring.for_initiation(0).fingerprint, crypto::key_fingerprint(next));
  EXPECT_EQ(ring.for_initiation(1).fingerprint, crypto::key_fingerprint(key_of(1)));
  EXPECT_EQ(ring.for_initiation(2).fingerprint, crypto::key_fingerprint(next));
}

TEST(KeyRingTest, AnInitiationIsVerifiedUnderWhicheverKeyMadeIt) {
  const crypto::Key next = key_of(2);
  const KeyRing ring(key_of(1), &next);
  const KeyRing::Key* k = ring.verifying(initiation_under(key_of(1)));
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->fingerprint, crypto::key_fingerprint(key_of(1)));
  k = ring.verifying(initiation_under(next));
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->fingerprint, crypto::key_fingerprint(next));
  EXPECT_EQ(ring.verifying(initiation_under(key_of(3))), nullptr);
}

TEST(KeyRingTest, TheKeyLearntLastStaysTheNewestWhenItIsPromoted) {
  const crypto::Key old_key = key_of(1), new_key = key_of(2);
  KeyRing ring(old_key, nullptr);
  EXPECT_TRUE(ring.replace(old_key, &new_key));  // step 1: next-key = new
  EXPECT_EQ(ring.for_initiation(0).fingerprint, crypto::key_fingerprint(new_key));
  // Step 2: key = new, the old one as next: the same two keys, so no new handshake is due.
  EXPECT_FALSE(ring.replace(new_key, &old_key));
  EXPECT_EQ(ring.key_fingerprint(), crypto::key_fingerprint(new_key));
  EXPECT_EQ(ring.for_initiation(0).fingerprint, crypto::key_fingerprint(new_key));
  EXPECT_EQ(ring.for_initiation(1).fingerprint, crypto::key_fingerprint(old_key));
  EXPECT_FALSE(ring.replace(new_key, &old_key));  // the same again: no change
  EXPECT_TRUE(ring.replace(new_key, nullptr));    // the old one goes
  EXPECT_EQ(ring.for_initiation(1).fingerprint, crypto::key_fingerprint(new_key));
  EXPECT_EQ(ring.verifying(initiation_under(old_key)), nullptr);
}

TEST(KeyRingTest, TheSameKeyTwiceIsOneKey) {
  const crypto::Key key = key_of(1);
  const KeyRing ring(key, &key);
  EXPECT_FALSE(ring.next_key_fingerprint());
}

}  // namespace
}  // namespace squtun::protocol
