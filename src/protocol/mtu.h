#pragma once

#include <cstddef>
#include <optional>

namespace squtun::protocol {

enum class UnderlayFamily { V4, V6 };

inline constexpr std::size_t kMinInnerMtu = 68;  // the smallest MTU IPv4 allows
inline constexpr std::size_t kMaxUnderlayMtu = 65535;

enum class Payload { IpPacket, EthernetFrame };

// Bytes each inner packet costs on the underlay: outer IP and UDP headers plus ours, and
// the Ethernet header a TAP frame carries beyond its MTU.
std::size_t encapsulation_overhead(UnderlayFamily family, Payload payload = Payload::IpPacket);

// The TUN/TAP MTU that keeps sealed packets within an underlay MTU, or nothing if the
// underlay MTU is too small to carry a minimal inner packet or larger than 65535.
std::optional<std::size_t> inner_mtu(std::size_t underlay_mtu, UnderlayFamily family,
                                     Payload payload = Payload::IpPacket);

// inner_mtu for the path to the peer: of its device's MTU, or of the route's MTU if the route
// has a smaller one (set on the route, or a path MTU the kernel learnt).
std::optional<std::size_t> inner_mtu_of_path(std::size_t device_mtu,
                                             std::optional<std::size_t> route_mtu,
                                             UnderlayFamily family, Payload payload);

}  // namespace squtun::protocol
