#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/unique_handle.h"
#include "crypto/secret.h"

namespace squtun::crypto {

inline constexpr std::size_t kMacSize = 16;
using Mac = std::array<std::uint8_t, kMacSize>;

// HKDF-SHA256 (RFC 5869) through OpenSSL's EVP_KDF; info is the ASCII label.
Key hkdf_sha256(std::span<const std::uint8_t> ikm, std::span<const std::uint8_t> salt,
                std::string_view info);

// HMAC-SHA256 (RFC 2104) under one key, truncated to kMacSize bytes. The key is set up
// once: the SHA-256 states after the inner and the outer padded key block are kept, and
// each MAC copies them and hashes only the message and the inner digest (for a handshake
// message two compression-function calls), with no algorithm fetch and no key set-up, so
// that a MAC can be checked for every datagram of a flood. Not thread-safe: one per user.
class MacKey {
 public:
  explicit MacKey(const Key& key);
  Mac mac(std::span<const std::uint8_t> message);

 private:
  using MdCtxPtr = base::UniqueHandle<EVP_MD_CTX, EVP_MD_CTX_free>;
  MdCtxPtr inner_;  // SHA-256 after (key xor ipad)
  MdCtxPtr outer_;  // SHA-256 after (key xor opad)
  MdCtxPtr work_;
};

// Constant-time comparison of two MACs.
bool mac_equal(const Mac& a, const Mac& b);

// Fills out from OpenSSL's CSPRNG; throws std::runtime_error if it cannot.
void random_bytes(std::span<std::uint8_t> out);

}  // namespace squtun::crypto
