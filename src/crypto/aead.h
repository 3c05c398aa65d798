#pragma once

#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/unique_handle.h"
#include "crypto/secret.h"

namespace squtun::crypto {

inline constexpr std::size_t kAeadTagSize = 16;

// A key as AeadContext takes it: immutable, with an identity that is unique in the process
// and travels with copies, so a context can tell the key it holds from any other without
// comparing bytes. A new AeadKey, even of the same bytes, is a new identity.
class AeadKey {
 public:
  AeadKey(const Key& key);  // NOLINT(google-explicit-constructor): any Key can seal and open
  const Key& key() const { return key_; }
  std::uint64_t id() const { return id_; }
  bool operator==(const AeadKey& other) const { return key_ == other.key_; }

 private:
  Key key_;
  std::uint64_t id_;
};

// ChaCha20-Poly1305 (RFC 8439) through OpenSSL EVP. One context per thread, reused for
// every packet: construction allocates, seal/open never do. It keeps one EVP context for
// sealing and one for opening, each keyed only when its key changes; a packet sets only the
// nonce. The 96-bit nonce is four zero bytes followed by the 64-bit counter, little-endian.
class AeadContext {
 public:

  // Writes plaintext.size() + kAeadTagSize bytes to out (which may alias plaintext).
  // Returns false only if OpenSSL fails.
  bool seal(const AeadKey& key, std::uint64_t counter, std::span<const std::uint8_t> aad,
            std::span<const std::uint8_t> plaintext, std::span<std::uint8_t> out);

  // ciphertext includes the tag. Writes ciphertext.size() - kAeadTagSize bytes to out
  // (which may alias ciphertext). Returns false if the tag does not authenticate.
  bool open(const AeadKey& key, std::uint64_t counter, std::span<const std::uint8_t> aad,
            std::span<const std::uint8_t> ciphertext, std::span<std::uint8_t> out);

 private:
  // An EVP context and the identity of the key it holds after a packet that went through
  // (0: none yet, or a packet in progress or failed).
  struct Keyed {
    explicit Keyed(int encrypting);
    bool start(const AeadKey& key, std::uint64_t counter, std::uint8_t* expected_tag);

    base::UniqueHandle<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free> ctx;
    std::uint64_t key_id = 0;
    int enc;
  };

  Keyed sealer_{1};
  Keyed opener_{0};
};

}  // namespace squtun::crypto
