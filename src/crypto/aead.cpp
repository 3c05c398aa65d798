#include "crypto/aead.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <climits>
#include <functional>
#include <stdexcept>

#include "base/byte_order.h"

namespace squtun::crypto {
namespace {

constexpr std::size_t kNonceSize = 12;
constexpr std::size_t kNonceZeroPrefix = 4;
using Nonce = std::array<std::uint8_t, kNonceSize>;
constexpr int kTagSizeArg = static_cast<int>(kAeadTagSize);

Nonce nonce_for(std::uint64_t counter) {
  Nonce nonce{};
  base::store_le(nonce.data() + kNonceZeroPrefix, counter);
  return nonce;
}

// Fetched once per process and shared by every context: a fetched cipher is immutable,
// and fetching costs a provider lookup that has no place on the packet path.
const EVP_CIPHER* chacha20_poly1305() {
  static const base::UniqueHandle<EVP_CIPHER, EVP_CIPHER_free> cipher(
      EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr));
  return cipher.get();
}

// OpenSSL allows exact in-place operation but not a partial overlap.
bool overlaps_partially(std::span<const std::uint8_t> in, std::span<const std::uint8_t> out) {
  if (in.empty() || out.empty() || in.data() == out.data()) return false;
  std::less<const std::uint8_t*> before;
  return before(in.data(), out.data() + out.size()) && before(out.data(), in.data() + in.size());
}

bool fits_in_int(std::size_t size) { return size <= static_cast<std::size_t>(INT_MAX); }

bool add_aad(EVP_CIPHER_CTX* ctx, std::span<const std::uint8_t> aad) {
  int written = 0;
  return aad.empty() ||
         EVP_CipherUpdate(ctx, nullptr, &written, aad.data(), static_cast<int>(aad.size())) == 1;
}

bool transform(EVP_CIPHER_CTX* ctx, std::span<const std::uint8_t> in, std::uint8_t* out) {
  int written = 0;
  return in.empty() ||
         EVP_CipherUpdate(ctx, out, &written, in.data(), static_cast<int>(in.size())) == 1;
}

std::uint64_t next_key_id() {
  static std::atomic<std::uint64_t> last{0};
  return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

}  // namespace

AeadKey::AeadKey(const Key& key) : key_(key), id_(next_key_id()) {}

AeadContext::Keyed::Keyed(int encrypting) : ctx(EVP_CIPHER_CTX_new()), enc(encrypting) {
  const EVP_CIPHER* cipher = chacha20_poly1305();
  if (!ctx || cipher == nullptr)
    throw std::runtime_error("cannot set up ChaCha20-Poly1305: OpenSSL allocation failed");
  // Binding the cipher here lets start() re-key with a null cipher, which reuses the
  // provider context instead of freeing and allocating one.
  if (EVP_CipherInit_ex2(ctx.get(), cipher, nullptr, nullptr, enc, nullptr) != 1)
    throw std::runtime_error("cannot set up ChaCha20-Poly1305: OpenSSL refused the cipher");
}

// Keying is the expensive part of an init, and a context keeps its key across packets: only a
// key it does not hold yet goes in. key_id is cleared until the packet is done, so any failure
// brings a full init next time.
bool AeadContext::Keyed::start(const AeadKey& key, std::uint64_t counter,
                               std::uint8_t* expected_tag) {
  const Nonce nonce = nonce_for(counter);
  const bool keyed = key_id == key.id();
  key_id = 0;
  return EVP_CipherInit_ex2(ctx.get(), nullptr, keyed ? nullptr : key.key().data(), nonce.data(),
                            enc, nullptr) == 1 &&
         (expected_tag == nullptr ||
          EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, kTagSizeArg, expected_tag) == 1);
}

bool AeadContext::seal(const AeadKey& key, std::uint64_t counter, std::span<const std::uint8_t> aad,
                       std::span<const std::uint8_t> plaintext, std::span<std::uint8_t> out) {
  if (!sealer_.ctx || out.size() < plaintext.size() + kAeadTagSize || !fits_in_int(aad.size()) ||
      !fits_in_int(plaintext.size()) || overlaps_partially(plaintext, out)) {
    return false;
  }
  EVP_CIPHER_CTX* ctx = sealer_.ctx.get();
  std::uint8_t* tag = out.data() + plaintext.size();
  int final_written = 0;
  const bool sealed = sealer_.start(key, counter, nullptr) && add_aad(ctx, aad) &&
                      transform(ctx, plaintext, out.data()) &&
                      EVP_CipherFinal_ex(ctx, tag, &final_written) == 1 &&
                      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTagSizeArg, tag) == 1;
  if (sealed) sealer_.key_id = key.id();
  return sealed;
}

bool AeadContext::open(const AeadKey& key, std::uint64_t counter, std::span<const std::uint8_t> aad,
                       std::span<const std::uint8_t> ciphertext, std::span<std::uint8_t> out) {
  if (!opener_.ctx || ciphertext.size() < kAeadTagSize || !fits_in_int(aad.size()) ||
      !fits_in_int(ciphertext.size())) {
    return false;
  }
  const auto body = ciphertext.first(ciphertext.size() - kAeadTagSize);
  if (out.size() < body.size() || overlaps_partially(body, out)) return false;
  EVP_CIPHER_CTX* ctx = opener_.ctx.get();
  // A copy, because the ctrl takes a non-const pointer.
  std::array<std::uint8_t, kAeadTagSize> tag;
  std::ranges::copy(ciphertext.last(kAeadTagSize), tag.begin());
  int final_written = 0;
  const bool authentic = opener_.start(key, counter, tag.data()) && add_aad(ctx, aad) &&
                         transform(ctx, body, out.data()) &&
                         EVP_CipherFinal_ex(ctx, out.data() + body.size(), &final_written) == 1;
  if (authentic) {
    opener_.key_id = key.id();
  } else {
    // A forged packet must not leave unauthenticated plaintext behind for a careless caller.
    std::ranges::fill(out.first(body.size()), std::uint8_t{0});
  }
  return authentic;
}

}  // namespace squtun::crypto
