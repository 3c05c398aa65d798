#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "crypto/secret.h"

namespace squtun::crypto {

inline constexpr std::size_t kMacSize = 16;
using Mac = std::array<std::uint8_t, kMacSize>;

// HKDF-SHA256 (RFC 5869) through OpenSSL's EVP_KDF; info is the ASCII label.
Key hkdf_sha256(std::span<const std::uint8_t> ikm, std::span<const std::uint8_t> salt,
                std::string_view info);

// HMAC-SHA256 truncated to kMacSize bytes.
Mac hmac_sha256(const Key& key, std::span<const std::uint8_t> message);

// Constant-time comparison of two MACs.
bool mac_equal(const Mac& a, const Mac& b);

// Fills out from OpenSSL's CSPRNG; throws std::runtime_error if it cannot.
void random_bytes(std::span<std::uint8_t> out);

}  // namespace squtun::crypto
