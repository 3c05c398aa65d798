#include "crypto/aead.h"

#include <openssl/core_names.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <climits>
#include <functional>
#include <stdexcept>

#include "base/byte_order.h"

namespace squtun::crypto {
namespace {

// OpenSSL allows exact in-place operation but not a partial overlap.
bool overlaps_partially(std::span<const std::uint8_t> in, std::span<const std::uint8_t> out) {
  if (in.empty() || out.empty() || in.data() == out.data()) return false;
  std::less<const std::uint8_t*> before;
  return before(in.data(), out.data() + out.size()) && before(out.data(), in.data() + in.size());
}

// AAD when out is null, else the body.
bool update(EVP_CIPHER_CTX* ctx, std::uint8_t* out, std::span<const std::uint8_t> in) {
  int written = 0;
  return in.empty() || (in.size() <= INT_MAX && EVP_CipherUpdate(ctx, out, &written, in.data(),
                                                                 static_cast<int>(in.size())) == 1);
}

std::atomic<std::uint64_t> last_key_id{0};

OSSL_PARAM octets(const char* name, std::uint8_t* bytes, std::size_t size) {
  return OSSL_PARAM_construct_octet_string(name, bytes, size);
}

}  // namespace

AeadKey::AeadKey(const Key& bytes) : key(bytes), id(++last_key_id) {}

AeadContext::Keyed::Keyed(int encrypting) : ctx(EVP_CIPHER_CTX_new()), enc(encrypting) {
  // Fetched once per process and shared by every context: a fetched cipher is immutable.
  // Binding it here lets run() re-key without freeing and allocating a provider context.
  static const base::UniqueHandle<EVP_CIPHER, EVP_CIPHER_free> cipher(
      EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr));
  if (!ctx || !cipher ||
      EVP_CipherInit_ex2(ctx.get(), cipher.get(), nullptr, nullptr, enc, nullptr) != 1) {
    throw std::runtime_error("cannot set up ChaCha20-Poly1305 in OpenSSL");
  }
}

// Keying costs, and so do EVP_CipherInit's parameter look-ups: once keyed, and after a packet
// that went through, the nonce goes in as the fixed-IV parameter (for ChaCha20-Poly1305 the
// whole nonce), with the expected tag when opening, in one call; any failure re-inits.
bool AeadContext::Keyed::run(const AeadKey& key, std::uint64_t counter,
                             std::span<const std::uint8_t> aad, std::span<const std::uint8_t> in,
                             std::span<std::uint8_t> out, std::uint8_t* tag) {
  if (!ctx || overlaps_partially(in, out)) return false;
  EVP_CIPHER_CTX* c = ctx.get();
  std::array<std::uint8_t, 12> nonce{};
  base::store_le(nonce.data() + 4, counter);  // after four zero bytes
  // Sealing passes no tag in (OpenSSL takes that as the length only) and reads it out after.
  std::array<OSSL_PARAM, 3> params{
      octets(OSSL_CIPHER_PARAM_AEAD_TLS1_IV_FIXED, nonce.data(), nonce.size()),
      octets(OSSL_CIPHER_PARAM_AEAD_TAG, enc ? nullptr : tag, kAeadTagSize),
      OSSL_PARAM_construct_end()};
  const bool started = key_id == key.id ? EVP_CIPHER_CTX_set_params(c, params.data()) == 1
                                        : EVP_CipherInit_ex2(c, nullptr, key.key.data(),
                                                             nonce.data(), enc, &params[1]) == 1;
  params[1].data = tag;
  int written = 0;
  const bool done = started && update(c, nullptr, aad) && update(c, out.data(), in) &&
                    EVP_CipherFinal_ex(c, out.data() + in.size(), &written) == 1 &&
                    (!enc || EVP_CIPHER_CTX_get_params(c, &params[1]) == 1);
  key_id = done ? key.id : 0;
  return done;
}

bool AeadContext::seal(const AeadKey& key, std::uint64_t counter, std::span<const std::uint8_t> aad,
                       std::span<const std::uint8_t> plaintext, std::span<std::uint8_t> out) {
  return out.size() >= plaintext.size() + kAeadTagSize &&
         sealer_.run(key, counter, aad, plaintext, out, out.data() + plaintext.size());
}

bool AeadContext::open(const AeadKey& key, std::uint64_t counter, std::span<const std::uint8_t> aad,
                       std::span<const std::uint8_t> ciphertext, std::span<std::uint8_t> out) {
  if (ciphertext.size() < kAeadTagSize || out.size() < ciphertext.size() - kAeadTagSize) {
    return false;
  }
  const auto body = ciphertext.first(ciphertext.size() - kAeadTagSize);
  std::array<std::uint8_t, kAeadTagSize> tag;  // a copy: a parameter takes a non-const pointer
  std::ranges::copy(ciphertext.last(kAeadTagSize), tag.begin());
  if (opener_.run(key, counter, aad, body, out, tag.data())) return true;
  // A forged packet must not leave unauthenticated plaintext behind for a careless caller.
  std::ranges::fill(out.first(body.size()), std::uint8_t{0});
  return false;
}

}  // namespace squtun::crypto
