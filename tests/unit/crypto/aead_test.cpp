#include "crypto/aead.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace squtun::crypto {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes from_hex(std::string_view hex) {
  Bytes bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(
        static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return bytes;
}

Key key_from_hex(std::string_view hex) {
  const Bytes bytes = from_hex(hex);
  return Key(std::span<const std::uint8_t, kKeySize>(bytes.data(), kKeySize));
}

Key patterned_key(std::uint8_t seed) {
  Key key;
  for (std::size_t i = 0; i < key.size(); ++i) key.data()[i] = static_cast<std::uint8_t>(seed + i);
  return key;
}

// RFC 8439 appendix A.5: its nonce 000000000102030405060708 is four zero bytes followed
// by the little-endian counter 0x0807060504030201, exactly the layout AeadContext builds.
constexpr std::uint64_t kRfcCounter = 0x0807060504030201;
constexpr std::string_view kRfcKey =
    "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0";
constexpr std::string_view kRfcAad = "f33388860000000000004e91";
constexpr std::string_view kRfcPlaintext =
    "496e7465726e65742d4472616674732061726520647261667420646f63756d656e74732076616c6964"
    "20666f722061206d6178696d756d206f6620736978206d6f6e74687320616e64206d61792062652075"
    "7064617465642c207265706c616365642c206f72206f62736f6c65746564206279206f746865722064"
    "6f63756d656e747320617420616e792074696d652e20497420697320696e617070726f707269617465"
    "20746f2075736520496e7465726e65742d447261667473206173207265666572656e6365206d617465"
    "7269616c206f7220746f2063697465207468656d206f74686572207468616e206173202fe2809c776f"
    "726b20696e2070726f67726573732e2fe2809d";
constexpr std::string_view kRfcCiphertext =
    "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb24c6cfc18755d43eea0"
    "9ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf332f830e710b97ce98c8a84abd0b948114ad"
    "176e008d33bd60f982b1ff37c8559797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f615"
    "7b53c867e4b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523eaf4534d7"
    "f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a0bb2316053fa76991955ebd631"
    "59434ecebb4e466dae5a1073a6727627097a1049e617d91d361094fa68f0ff77987130305beaba2eda"
    "04df997b714d6c6f2c29a6ad5cb4022b02709b";
constexpr std::string_view kRfcTag = "eead9d67890cbb22392336fea1851f38";

Bytes rfc_sealed() {
  Bytes sealed = from_hex(kRfcCiphertext);
  const Bytes tag = from_hex(kRfcTag);
  sealed.insert(sealed.end(), tag.begin(), tag.end());
  return sealed;
}

class AeadTest : public ::testing::Test {
 protected:
  Bytes seal(const Key& key, std::uint64_t counter, const Bytes& aad, const Bytes& plaintext) {
    Bytes out(plaintext.size() + kAeadTagSize);
    EXPECT_TRUE(aead_.seal(key, counter, aad, plaintext, out));
    return out;
  }

  bool open(const Key& key, std::uint64_t counter, const Bytes& aad, const Bytes& sealed,
            Bytes& plaintext) {
    plaintext.assign(sealed.size() - kAeadTagSize, 0);
    return aead_.open(key, counter, aad, sealed, plaintext);
  }

  AeadContext aead_;
  const Key key_ = patterned_key(1);
  const Bytes aad_ = from_hex("0102030405060708");
  const Bytes plaintext_ = from_hex("45000054abcd4000400100007f0000017f000001");
};

TEST_F(AeadTest, SealMatchesRfc8439KnownAnswer) {
  EXPECT_EQ(seal(key_from_hex(kRfcKey), kRfcCounter, from_hex(kRfcAad), from_hex(kRfcPlaintext)),
            rfc_sealed());
}

TEST_F(AeadTest, OpenMatchesRfc8439KnownAnswer) {
  Bytes plaintext;
  ASSERT_TRUE(open(key_from_hex(kRfcKey), kRfcCounter, from_hex(kRfcAad), rfc_sealed(), plaintext));
  EXPECT_EQ(plaintext, from_hex(kRfcPlaintext));
}

TEST_F(AeadTest, RoundTripsOverManyPacketsOnOneContext) {
  for (std::uint64_t counter = 0; counter < 50; ++counter) {
    const Bytes sealed = seal(key_, counter, aad_, plaintext_);
    Bytes opened;
    ASSERT_TRUE(open(key_, counter, aad_, sealed, opened)) << "counter " << counter;
    EXPECT_EQ(opened, plaintext_);
  }
}

TEST_F(AeadTest, SealsAndOpensInPlace) {
  Bytes buffer = plaintext_;
  buffer.resize(plaintext_.size() + kAeadTagSize);
  const std::span<std::uint8_t> body = std::span(buffer).first(plaintext_.size());
  ASSERT_TRUE(aead_.seal(key_, 7, aad_, body, buffer));
  EXPECT_EQ(buffer, seal(key_, 7, aad_, plaintext_));

  ASSERT_TRUE(aead_.open(key_, 7, aad_, buffer, buffer));
  EXPECT_EQ(Bytes(body.begin(), body.end()), plaintext_);
}

TEST_F(AeadTest, EmptyPlaintextSealsToBareTagAndOpens) {
  const Bytes sealed = seal(key_, 3, aad_, {});
  EXPECT_EQ(sealed.size(), kAeadTagSize);
  Bytes opened;
  EXPECT_TRUE(open(key_, 3, aad_, sealed, opened));
  EXPECT_TRUE(opened.empty());
}

TEST_F(AeadTest, EmptyAadRoundTrips) {
  const Bytes sealed = seal(key_, 4, {}, plaintext_);
  Bytes opened;
  ASSERT_TRUE(open(key_, 4, {}, sealed, opened));
  EXPECT_EQ(opened, plaintext_);
}

TEST_F(AeadTest, RejectsAnyTamperedCiphertextOrTagByte) {
  const Bytes sealed = seal(key_, 9, aad_, plaintext_);
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    Bytes tampered = sealed;
    tampered[i] ^= 0x01;
    Bytes opened;
    EXPECT_FALSE(open(key_, 9, aad_, tampered, opened)) << "byte " << i;
  }
}

TEST_F(AeadTest, RejectsAnyTamperedAadByte) {
  const Bytes sealed = seal(key_, 9, aad_, plaintext_);
  for (std::size_t i = 0; i < aad_.size(); ++i) {
    Bytes tampered_aad = aad_;
    tampered_aad[i] ^= 0x80;
    Bytes opened;
    EXPECT_FALSE(open(key_, 9, tampered_aad, sealed, opened)) << "byte " << i;
  }
}

TEST_F(AeadTest, RejectsTruncatedOrExtendedAad) {
  const Bytes sealed = seal(key_, 9, aad_, plaintext_);
  Bytes opened;
  EXPECT_FALSE(open(key_, 9, Bytes(aad_.begin(), aad_.end() - 1), sealed, opened));
  Bytes longer_aad = aad_;
  longer_aad.push_back(0);
  EXPECT_FALSE(open(key_, 9, longer_aad, sealed, opened));
}

TEST_F(AeadTest, RejectsWrongCounter) {
  const Bytes sealed = seal(key_, 1000, aad_, plaintext_);
  Bytes opened;
  EXPECT_FALSE(open(key_, 1001, aad_, sealed, opened));
  EXPECT_FALSE(open(key_, 1000 + (std::uint64_t{1} << 32), aad_, sealed, opened));
}

TEST_F(AeadTest, RejectsWrongKey) {
  const Bytes sealed = seal(key_, 5, aad_, plaintext_);
  Bytes opened;
  EXPECT_FALSE(open(patterned_key(2), 5, aad_, sealed, opened));
}

TEST_F(AeadTest, FailedOpenLeavesNoUnauthenticatedPlaintext) {
  Bytes sealed = seal(key_, 5, aad_, plaintext_);
  sealed.back() ^= 0x01;
  Bytes opened;
  ASSERT_FALSE(open(key_, 5, aad_, sealed, opened));
  EXPECT_EQ(opened, Bytes(plaintext_.size(), 0));
}

TEST_F(AeadTest, RecoversAfterAFailedOpen) {
  const Bytes sealed = seal(key_, 6, aad_, plaintext_);
  Bytes tampered = sealed;
  tampered.front() ^= 0x01;
  Bytes opened;
  ASSERT_FALSE(open(key_, 6, aad_, tampered, opened));
  ASSERT_TRUE(open(key_, 6, aad_, sealed, opened));
  EXPECT_EQ(opened, plaintext_);
}

TEST_F(AeadTest, SealRefusesAnOutputTooSmallForTheTag) {
  Bytes out(plaintext_.size() + kAeadTagSize - 1);
  EXPECT_FALSE(aead_.seal(key_, 0, aad_, plaintext_, out));
}

TEST_F(AeadTest, OpenRefusesAnOutputTooSmallForThePlaintext) {
  const Bytes sealed = seal(key_, 0, aad_, plaintext_);
  Bytes out(plaintext_.size() - 1);
  EXPECT_FALSE(aead_.open(key_, 0, aad_, sealed, out));
}

TEST_F(AeadTest, OpenRefusesInputShorterThanATag) {
  const Bytes sealed = seal(key_, 0, aad_, {});
  Bytes out(kAeadTagSize);
  EXPECT_FALSE(aead_.open(key_, 0, aad_, std::span(sealed).first(kAeadTagSize - 1), out));
  EXPECT_FALSE(aead_.open(key_, 0, aad_, {}, out));
}

TEST_F(AeadTest, RefusesPartiallyOverlappingBuffers) {
  Bytes buffer(plaintext_.size() + kAeadTagSize + 1);
  const auto input = std::span(buffer).first(plaintext_.size());
  const auto shifted_out = std::span(buffer).subspan(1);
  EXPECT_FALSE(aead_.seal(key_, 0, aad_, input, shifted_out));
}

// What a context that never held any other key makes of the same input.
Bytes sealed_by_fresh_context(const AeadKey& key, std::uint64_t counter, const Bytes& aad,
                              const Bytes& plaintext) {
  AeadContext fresh;
  Bytes out(plaintext.size() + kAeadTagSize);
  EXPECT_TRUE(fresh.seal(key, counter, aad, plaintext, out));
  return out;
}

TEST_F(AeadTest, AlternatingKeysSealUnderEachKey) {
  const AeadKey first(patterned_key(1));
  const AeadKey second(patterned_key(2));
  for (std::uint64_t counter = 0; counter < 4; ++counter) {
    for (const AeadKey* key : {&first, &second}) {
      Bytes out(plaintext_.size() + kAeadTagSize);
      ASSERT_TRUE(aead_.seal(*key, counter, aad_, plaintext_, out));
      EXPECT_EQ(out, sealed_by_fresh_context(*key, counter, aad_, plaintext_));
    }
  }
}

TEST_F(AeadTest, AlternatingKeysOpenOnlyWhatEachKeySealed) {
  const AeadKey first(patterned_key(1));
  const AeadKey second(patterned_key(2));
  Bytes opened(plaintext_.size());
  for (std::uint64_t counter = 0; counter < 3; ++counter) {
    for (const AeadKey* key : {&first, &second}) {
      const Bytes sealed = sealed_by_fresh_context(*key, counter, aad_, plaintext_);
      ASSERT_TRUE(aead_.open(*key, counter, aad_, sealed, opened)) << "counter " << counter;
      EXPECT_EQ(opened, plaintext_);
    }
  }
  const Bytes by_first = sealed_by_fresh_context(first, 8, aad_, plaintext_);
  EXPECT_FALSE(aead_.open(second, 8, aad_, by_first, opened));
  EXPECT_TRUE(aead_.open(first, 8, aad_, by_first, opened));
  EXPECT_FALSE(aead_.open(second, 8, aad_, by_first, opened));
}

// The RFC's vector again, on a context that already sealed and opened under the same key.
TEST_F(AeadTest, MatchesRfc8439KnownAnswerWithTheKeyAlreadyInPlace) {
  const AeadKey key(key_from_hex(kRfcKey));
  const Bytes sealed = rfc_sealed();
  Bytes out(sealed.size());
  Bytes opened(sealed.size() - kAeadTagSize);
  ASSERT_TRUE(aead_.seal(key, 1, aad_, plaintext_, out));
  ASSERT_TRUE(aead_.open(key, kRfcCounter, from_hex(kRfcAad), sealed, opened));
  ASSERT_TRUE(aead_.seal(key, kRfcCounter, from_hex(kRfcAad), from_hex(kRfcPlaintext), out));
  EXPECT_EQ(out, sealed);
  ASSERT_TRUE(aead_.open(key, kRfcCounter, from_hex(kRfcAad), sealed, opened));
  EXPECT_EQ(opened, from_hex(kRfcPlaintext));
}

TEST_F(AeadTest, SealAndOpenOnOneContextKeepTheirOwnKeys) {
  const AeadKey sending(patterned_key(3));
  const AeadKey receiving(patterned_key(4));
  const Bytes incoming = sealed_by_fresh_context(receiving, 2, aad_, plaintext_);
  for (std::uint64_t counter = 0; counter < 3; ++counter) {
    Bytes out(plaintext_.size() + kAeadTagSize);
    ASSERT_TRUE(aead_.seal(sending, counter, aad_, plaintext_, out));
    EXPECT_EQ(out, sealed_by_fresh_context(sending, counter, aad_, plaintext_));
    Bytes opened(plaintext_.size());
    ASSERT_TRUE(aead_.open(receiving, 2, aad_, incoming, opened));
    EXPECT_EQ(opened, plaintext_);
  }
}

// A key that takes the place (and the address) of one the context holds is still a new key.
TEST_F(AeadTest, NewKeyAtTheAddressOfAnOldOneIsUsed) {
  std::optional<AeadKey> slot(std::in_place, patterned_key(5));
  Bytes out(plaintext_.size() + kAeadTagSize);
  ASSERT_TRUE(aead_.seal(*slot, 1, aad_, plaintext_, out));
  const AeadKey* old_address = &*slot;
  slot.reset();
  slot.emplace(patterned_key(6));
  ASSERT_EQ(&*slot, old_address);
  ASSERT_TRUE(aead_.seal(*slot, 1, aad_, plaintext_, out));
  EXPECT_EQ(out, sealed_by_fresh_context(AeadKey(patterned_key(6)), 1, aad_, plaintext_));
}

TEST_F(AeadTest, CopiesOfAKeyShareItsIdentityAndNewKeysDoNot) {
  const AeadKey key(patterned_key(7));
  const AeadKey copy = key;
  EXPECT_EQ(copy.id, key.id);
  EXPECT_NE(AeadKey(key.key).id, key.id);
}

TEST_F(AeadTest, MovedFromContextRefusesWork) {
  AeadContext moved_to = std::move(aead_);
  Bytes out(plaintext_.size() + kAeadTagSize);
  EXPECT_TRUE(moved_to.seal(key_, 0, aad_, plaintext_, out));
  EXPECT_FALSE(aead_.seal(key_, 0, aad_, plaintext_, out));  // NOLINT(bugprone-use-after-move)
  EXPECT_FALSE(aead_.open(key_, 0, aad_, out, out));
}

}  // namespace
}  // namespace squtun::crypto
