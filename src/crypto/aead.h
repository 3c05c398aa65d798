#pragma once

#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "base/unique_handle.h"
#include "crypto/secret.h"

namespace squtun::crypto {

inline constexpr std::size_t kAeadTagSize = 16;

// ChaCha20-Poly1305 (RFC 8439) through OpenSSL EVP. One context per thread, reused for
// every packet: construction allocates, seal/open never do. The 96-bit nonce is four zero
// bytes followed by the 64-bit counter in little-endian order.
class AeadContext {
 public:
  AeadContext();
  AeadContext(AeadContext&&) noexcept = default;
  AeadContext& operator=(AeadContext&&) noexcept = default;

  // Writes plaintext.size() + kAeadTagSize bytes to out (which may alias plaintext).
  // Returns false only if OpenSSL fails.
  bool seal(const Key& key, std::uint64_t counter, std::span<const std::uint8_t> aad,
            std::span<const std::uint8_t> plaintext, std::span<std::uint8_t> out);

  // ciphertext includes the tag. Writes ciphertext.size() - kAeadTagSize bytes to out
  // (which may alias ciphertext). Returns false if the tag does not authenticate.
  bool open(const Key& key, std::uint64_t counter, std::span<const std::uint8_t> aad,
            std::span<const std::uint8_t> ciphertext, std::span<std::uint8_t> out);

 private:
  base::UniqueHandle<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free> ctx_;
};

}  // namespace squtun::crypto
