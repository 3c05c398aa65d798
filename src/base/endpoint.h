#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace squtun::base {

// A UDP peer address as a plain value: the protocol compares and stores addresses but
// never touches a socket. IPv4-mapped IPv6 addresses are always stored as IPv4, so one
// peer has exactly one representation whatever socket family saw it.
struct Endpoint {
  enum class Family : std::uint8_t { None, V4, V6 };

  Family family = Family::None;
  std::array<std::uint8_t, 16> address{};  // V4 uses the first 4 bytes
  std::uint16_t port = 0;                  // host byte order
  std::uint32_t scope_id = 0;              // V6 link-local only

  static Endpoint v4(std::array<std::uint8_t, 4> addr, std::uint16_t port);
  static Endpoint v6(const std::array<std::uint8_t, 16>& addr, std::uint16_t port,
                     std::uint32_t scope_id = 0);

  bool valid() const { return family != Family::None; }
  bool operator==(const Endpoint&) const = default;
  // "198.18.0.1:7777" or "[2001:2::1]:7777".
  std::string to_string() const;
};

}  // namespace squtun::base
