#include "crypto/kdf.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

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

Bytes bytes_of(std::string_view text) { return Bytes(text.begin(), text.end()); }

Bytes bytes_of(const Key& key) { return Bytes(key.data(), key.data() + key.size()); }

// HMAC pads a short key with zeros to the block size, so a shorter RFC key padded with
// zeros to 32 bytes gives the same MAC.
Key zero_padded_key(const Bytes& short_key) {
  Key key;
  std::copy(short_key.begin(), short_key.end(), key.data());
  return key;
}

Bytes first_bytes(std::string_view hex, std::size_t count) {
  Bytes bytes = from_hex(hex);
  bytes.resize(count);
  return bytes;
}

TEST(HkdfSha256Test, MatchesRfc5869TestCase1) {
  const Bytes ikm(22, 0x0b);
  const Key key = hkdf_sha256(ikm, from_hex("000102030405060708090a0b0c"),
                              "\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9");
  // The RFC's OKM is 42 bytes; a 32-byte output is its prefix.
  EXPECT_EQ(bytes_of(key),
            first_bytes("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                        "34007208d5b887185865",
                        kKeySize));
}

TEST(HkdfSha256Test, MatchesRfc5869TestCase3WithEmptySaltAndInfo) {
  const Bytes ikm(22, 0x0b);
  const Key key = hkdf_sha256(ikm, {}, "");
  EXPECT_EQ(bytes_of(key),
            first_bytes("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
                        "9d201395faa4b61a96c8",
                        kKeySize));
}

TEST(HkdfSha256Test, DifferentLabelsGiveDifferentKeys) {
  const Bytes ikm(32, 0x42);
  const Bytes salt(16, 0x17);
  EXPECT_FALSE(hkdf_sha256(ikm, salt, "squtun a->b") == hkdf_sha256(ikm, salt, "squtun b->a"));
  EXPECT_TRUE(hkdf_sha256(ikm, salt, "squtun a->b") == hkdf_sha256(ikm, salt, "squtun a->b"));
}

Mac mac_of(const Key& key, const Bytes& message) { return MacKey(key).mac(message); }

TEST(HmacSha256Test, MatchesRfc4231TestCase1Truncated) {
  const Mac mac = mac_of(zero_padded_key(Bytes(20, 0x0b)), bytes_of("Hi There"));
  EXPECT_EQ(Bytes(mac.begin(), mac.end()), from_hex("b0344c61d8db38535ca8afceaf0bf12b"));
}

TEST(HmacSha256Test, MatchesRfc4231TestCase2Truncated) {
  const Mac mac = mac_of(zero_padded_key(bytes_of("Jefe")), bytes_of("what do ya want for nothing?"));
  EXPECT_EQ(Bytes(mac.begin(), mac.end()), from_hex("5bdcc146bf60754e6a042426089575c7"));
}

TEST(HmacSha256Test, MatchesRfc4231TestCase4Truncated) {
  Bytes key;
  for (std::uint8_t i = 1; i <= 25; ++i) key.push_back(i);
  const Mac mac = mac_of(zero_padded_key(key), Bytes(50, 0xcd));
  EXPECT_EQ(Bytes(mac.begin(), mac.end()), from_hex("82558a389a443c0ea4cc819899f2083a"));
}

TEST(HmacSha256Test, AcceptsAnEmptyMessage) {
  const Key key = zero_padded_key(bytes_of("k"));
  EXPECT_TRUE(mac_equal(mac_of(key, {}), mac_of(key, {})));
  EXPECT_FALSE(mac_equal(mac_of(key, {}), mac_of(key, bytes_of("x"))));
}

// One key serves every message: a reused MacKey gives what a fresh one gives, whatever
// came before (short and multi-block messages, the sizes handshakes use, repeats).
TEST(HmacSha256Test, AReusedKeyGivesTheSameMacsAsFreshOnes) {
  const Key key = zero_padded_key(Bytes(32, 0x5a));
  MacKey reused(key);
  for (const std::size_t size : {48, 92, 0, 200, 48, 64, 1, 92}) {
    Bytes message(size);
    for (std::size_t i = 0; i < size; ++i) message[i] = static_cast<std::uint8_t>(size + i);
    EXPECT_EQ(reused.mac(message), mac_of(key, message)) << "size " << size;
  }
}

TEST(MacEqualTest, ComparesEveryByte) {
  Mac a{};
  std::fill(a.begin(), a.end(), 0x5a);
  EXPECT_TRUE(mac_equal(a, a));
  for (std::size_t i = 0; i < a.size(); ++i) {
    Mac b = a;
    b[i] ^= 0x01;
    EXPECT_FALSE(mac_equal(a, b)) << "byte " << i;
  }
}

TEST(RandomBytesTest, FillsWithFreshBytesEachCall) {
  Bytes first(32, 0);
  Bytes second(32, 0);
  random_bytes(first);
  random_bytes(second);
  EXPECT_NE(first, second);
  EXPECT_NE(first, Bytes(32, 0));
}

TEST(RandomBytesTest, AcceptsAnEmptySpan) { EXPECT_NO_THROW(random_bytes({})); }

}  // namespace
}  // namespace squtun::crypto
