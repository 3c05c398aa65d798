#pragma once

#include <cstddef>
#include <cstdint>

// Unaligned loads and stores of a fixed byte order: the Internet's headers are big-endian,
// squtun's own mostly little-endian (docs/PROTOCOL.md names each field's order).
namespace squtun::base {

template <typename T>
T load_le(const std::uint8_t* p) {
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(T{p[i]} << (8 * i));
  return v;
}

template <typename T>
void store_le(std::uint8_t* p, T v) {
  for (std::size_t i = 0; i < sizeof(T); ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

template <typename T>
T load_be(const std::uint8_t* p) {
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>(v << 8 | p[i]);
  return v;
}

template <typename T>
void store_be(std::uint8_t* p, T v) {
  for (std::size_t i = 0; i < sizeof(T); ++i)
    p[sizeof(T) - 1 - i] = static_cast<std::uint8_t>(v >> (8 * i));
}

inline constexpr auto load_be16 = load_be<std::uint16_t>;
inline constexpr auto load_be32 = load_be<std::uint32_t>;
inline constexpr auto store_be16 = store_be<std::uint16_t>;
inline constexpr auto store_be32 = store_be<std::uint32_t>;

}  // namespace squtun::base
