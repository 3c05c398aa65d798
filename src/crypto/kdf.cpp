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
using MacPtr = base::UniqueHandle<EVP_MAC, EVP_MAC_free>;
using MacCtxPtr = base::UniqueHandle<EVP_MAC_CTX, EVP_MAC_CTX_free>;

constexpr std::size_t kSha256Size = 32;

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
  if (EVP_KDF_derive(ctx.get(), key.data(), key.size(), params.data()) != 1) {
    fail("HKDF-SHA256 derivation");
  }
  return key;
}

Mac hmac_sha256(const Key& key, std::span<const std::uint8_t> message) {
  const MacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  const MacCtxPtr ctx(mac ? EVP_MAC_CTX_new(mac.get()) : nullptr);
  if (!ctx) fail("cannot set up HMAC-SHA256");
  const OSSL_PARAM params[] = {sha256_digest_param(), OSSL_PARAM_construct_end()};
  // The half that is cut off never goes on the wire, so it is wiped like key material.
  Secret<kSha256Size> full;
  std::size_t full_size = 0;
  if (EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), message.data(), message.size()) != 1 ||
      EVP_MAC_final(ctx.get(), full.data(), &full_size, full.size()) != 1 ||
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
