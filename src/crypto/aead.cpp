#include "crypto/aead.h"

#include <algorithm>
#include <array>
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

}  // namespace

AeadContext::AeadContext() : ctx_(EVP_CIPHER_CTX_new()) {
  const EVP_CIPHER* cipher = chacha20_poly1305();
  if (!ctx_ || cipher == nullptr)
    throw std::runtime_error("cannot set up ChaCha20-Poly1305: OpenSSL allocation failed");
  // Binding the cipher here lets seal/open re-key with a null cipher, which reuses the
  // provider context instead of freeing and allocating one per packet.
  if (EVP_CipherInit_ex2(ctx_.get(), cipher, nullptr, nullptr, 1, nullptr) != 1)
    throw std::runtime_error("cannot set up ChaCha20-Poly1305: OpenSSL refused the cipher");
}

bool AeadContext::seal(const Key& key, std::uint64_t counter, std::span<const std::uint8_t> aad,
                       std::span<const std::uint8_t> plaintext, std::span<std::uint8_t> out) {
  if (!ctx_ || out.size() < plaintext.size() + kAeadTagSize || !fits_in_int(aad.size()) ||
      !fits_in_int(plaintext.size()) || overlaps_partially(plaintext, out)) {
    return false;
  }
  EVP_CIPHER_CTX* ctx = ctx_.get();
  const Nonce nonce = nonce_for(counter);
  std::uint8_t* tag = out.data() + plaintext.size();
  int final_written = 0;
  return EVP_CipherInit_ex2(ctx, nullptr, key.data(), nonce.data(), 1, nullptr) == 1 &&
         add_aad(ctx, aad) && transform(ctx, plaintext, out.data()) &&
         EVP_CipherFinal_ex(ctx, tag, &final_written) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTagSizeArg, tag) == 1;
}

bool AeadContext::open(const Key& key, std::uint64_t counter, std::span<const std::uint8_t> aad,
                       std::span<const std::uint8_t> ciphertext, std::span<std::uint8_t> out) {
  if (!ctx_ || ciphertext.size() < kAeadTagSize || !fits_in_int(aad.size()) ||
      !fits_in_int(ciphertext.size())) {
    return false;
  }
  const auto body = ciphertext.first(ciphertext.size() - kAeadTagSize);
  if (out.size() < body.size() || overlaps_partially(body, out)) return false;
  EVP_CIPHER_CTX* ctx = ctx_.get();
  const Nonce nonce = nonce_for(counter);
  // A copy, because the ctrl takes a non-const pointer.
  std::array<std::uint8_t, kAeadTagSize> tag;
  std::ranges::copy(ciphertext.last(kAeadTagSize), tag.begin());
  int final_written = 0;
  const bool authentic =
      EVP_CipherInit_ex2(ctx, nullptr, key.data(), nonce.data(), 0, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kTagSizeArg, tag.data()) == 1 &&
      add_aad(ctx, aad) && transform(ctx, body, out.data()) &&
      EVP_CipherFinal_ex(ctx, out.data() + body.size(), &final_written) == 1;
  if (!authentic) {
    // A forged packet must not leave unauthenticated plaintext behind for a careless caller.
    std::ranges::fill(out.first(body.size()), std::uint8_t{0});
  }
  return authentic;
}

}  // namespace squtun::crypto
