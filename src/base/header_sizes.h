#pragma once

#include <cstddef>

// The fixed header sizes of the protocols squtun carries and is carried by.
namespace squtun::base {

inline constexpr std::size_t kIpv4HeaderSize = 20;  // without options
inline constexpr std::size_t kIpv6HeaderSize = 40;  // without extension headers
inline constexpr std::size_t kUdpHeaderSize = 8;
inline constexpr std::size_t kTcpHeaderSize = 20;  // without options
inline constexpr std::size_t kEthernetHeaderSize = 14;

}  // namespace squtun::base
