#pragma once

#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/unique_handle.h"
#include "crypto/secret.h"

namespace squtun::crypto {

inline constexpr std::size_t kAeadTagSize = 16;

// A key as AeadContext takes it: immutable, with an identity unique in the process that
// copies keep, so a context tells the key it holds from any other without comparing bytes.
struct AeadKey {
  AeadKey(const Key& bytes);  // NOLINT(google-explicit-constructor): any Key can seal and open
  const Key key;
  const std::uint64_t id;
};

// ChaCha20-Poly1305 (RFC 8439) through OpenSSL EVP, one per thread: construction allocates,
// seal/open never do, and each direction's EVP context is keyed only when its key changes.
// The 96-bit nonce is four zero bytes followed by the 64-bit counter, little-endian.
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
  // An EVP context for one direction and the identity of the key it holds (0: none yet, or
  // its last packet failed). tag is written when sealing and checked when opening.
  struct Keyed {
    explicit Keyed(int encrypting);
    bool run(const AeadKey& key, std::uint64_t counter, std::span<const std::uint8_t> aad,
             std::span<const std::uint8_t> in, std::span<std::uint8_t> out, std::uint8_t* tag);

    base::UniqueHandle<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free> ctx;
    std::uint64_t key_id = 0;
    int enc;
  };

  Keyed sealer_{1};
  Keyed opener_{0};
};

}  // namespace squtun::crypto
