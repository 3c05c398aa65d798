#include "crypto/kdf.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <climits>
#include <memory>
#include <stdexcept>
#include <string>

#include "base/unique_handle.h"

namespace squtun::crypto {
namespace {

using KdfPtr = base::UniqueHandle<EVP_KDF, EVP_KDF_free>;
using KdfCtxPtr = base::UniqueHandle<EVP_KDF_CTX, EVP_KDF_CTX_free>;
using MdPtr = base::UniqueHandle<EVP_MD, EVP_MD_free>;

constexpr std::size_t kSha256Size = 32;
constexpr std::size_t kSha256Block = 64;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": OpenSSL failed");
}

// OSSL_PARAM wants mutable pointers even for inputs it only reads.
OSSL_PARAM octet_param(const char* name, std::span<const std::uint8_t> bytes) {
  return OSSL_PARAM_construct_octet_string(name, const_cast<std::uint8_t*>(bytes.data()),
                                           bytes.size());
}

OSSL_PARAM sha256_digest_param() {
  static char sha256[] = "SHA256";
  return OSSL_PARAM_construct_utf8_string(OSSL_ALG_PARAM_DIGEST, sha256, 0);
}

}  // namespace

Key hkdf_sha256(std::span<const std::uint8_t> ikm, std::span<const std::uint8_t> salt,
                std::string_view info) {
  const KdfPtr kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  const KdfCtxPtr ctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
  if (!ctx) fail("cannot set up HKDF-SHA256");
  const std::span<const std::uint8_t> info_bytes(reinterpret_cast<const std::uint8_t*>(info.data()),
                                                 info.size());
  std::array<OSSL_PARAM, 5> params;
  std::size_t count = 0;
  params[count++] = sha256_digest_param();
  params[count++] = octet_param(OSSL_KDF_PARAM_KEY, ikm);
  params[count++] = octet_param(OSSL_KDF_PARAM_INFO, info_bytes);
  // OpenSSL rejects an explicitly empty salt; left out, it becomes the all-zero salt that
  // RFC 5869 substitutes for an empty one, so the result is the same.
  if (!salt.empty()) params[count++] = octet_param(OSSL_KDF_PARAM_SALT, salt);
  params[count] = OSSL_PARAM_construct_end();
  Key key;
  if (EVP_KDF_derive(ctx.get(), key.data(), key.size(), params.data()) != 1)
    fail("HKDF-SHA256 derivation");
  return key;
}

MacKey::MacKey(const Key& key)
    : inner_(EVP_MD_CTX_new()), outer_(EVP_MD_CTX_new()), work_(EVP_MD_CTX_new()) {
  const MdPtr sha256(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  if (!sha256 || !inner_ || !outer_ || !work_) fail("cannot set up HMAC-SHA256");
  // RFC 2104 with a key shorter than the block: zero-padded, then xored with each pad.
  Secret<kSha256Block> inner_pad;
  Secret<kSha256Block> outer_pad;
  for (std::size_t i = 0; i < kSha256Block; ++i) {
    const std::uint8_t k = i < key.size() ? key.data()[i] : 0;
    inner_pad.data()[i] = k ^ 0x36;
    outer_pad.data()[i] = k ^ 0x5c;
  }
  if (EVP_DigestInit_ex(inner_.get(), sha256.get(), nullptr) != 1 ||
      EVP_DigestUpdate(inner_.get(), inner_pad.data(), inner_pad.size()) != 1 ||
      EVP_DigestInit_ex(outer_.get(), sha256.get(), nullptr) != 1 ||
      EVP_DigestUpdate(outer_.get(), outer_pad.data(), outer_pad.size()) != 1) {
    fail("HMAC-SHA256 key set-up");
  }
}

Mac MacKey::mac(std::span<const std::uint8_t> message) {
  // Both digests are wiped like key material: the cut-off half never goes on the wire,
  // and the inner digest is not meant to be seen either.
  Secret<kSha256Size> inner;
  Secret<kSha256Size> full;
  unsigned inner_size = 0;
  unsigned full_size = 0;
  if (EVP_MD_CTX_copy_ex(work_.get(), inner_.get()) != 1 ||
      EVP_DigestUpdate(work_.get(), message.data(), message.size()) != 1 ||
      EVP_DigestFinal_ex(work_.get(), inner.data(), &inner_size) != 1 ||
      EVP_MD_CTX_copy_ex(work_.get(), outer_.get()) != 1 ||
      EVP_DigestUpdate(work_.get(), inner.data(), inner.size()) != 1 ||
      EVP_DigestFinal_ex(work_.get(), full.data(), &full_size) != 1 || inner_size != inner.size() ||
      full_size != full.size()) {
    fail("HMAC-SHA256");
  }
  Mac truncated;
  std::copy_n(full.data(), truncated.size(), truncated.begin());
  return truncated;
}

bool mac_equal(const Mac& a, const Mac& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void random_bytes(std::span<std::uint8_t> out) {
  while (!out.empty()) {
    const std::size_t chunk = std::min<std::size_t>(out.size(), INT_MAX);
    if (RAND_bytes(out.data(), static_cast<int>(chunk)) != 1) {
      throw std::runtime_error("cannot get random bytes: OpenSSL's random generator failed");
    }
    out = out.subspan(chunk);
  }
}

}  // namespace squtun::crypto
