#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include <openssl/crypto.h>

namespace squtun::crypto {

// Fixed-size key material that is wiped when it goes out of scope, so no copy of a key
// outlives its owner in freed memory.
template <std::size_t N>
class Secret {
 public:
  Secret() { bytes_.fill(0); }
  explicit Secret(std::span<const std::uint8_t, N> bytes) {
    std::copy(bytes.begin(), bytes.end(), bytes_.begin());
  }
  Secret(const Secret& other) = default;
  Secret& operator=(const Secret& other) = default;
  ~Secret() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

  std::uint8_t* data() { return bytes_.data(); }
  const std::uint8_t* data() const { return bytes_.data(); }
  static constexpr std::size_t size() { return N; }
  std::span<std::uint8_t, N> span() { return bytes_; }
  std::span<const std::uint8_t, N> span() const { return bytes_; }

  bool operator==(const Secret& other) const {
    return CRYPTO_memcmp(bytes_.data(), other.bytes_.data(), N) == 0;
  }

 private:
  std::array<std::uint8_t, N> bytes_;
};

inline constexpr std::size_t kKeySize = 32;
using Key = Secret<kKeySize>;

}  // namespace squtun::crypto
