#include "protocol/mtu.h"

#include <algorithm>

#include "base/header_sizes.h"
#include "protocol/constants.h"

namespace squtun::protocol {

std::size_t encapsulation_overhead(UnderlayFamily family, Payload payload) {
  const std::size_t ip =
      family == UnderlayFamily::V4 ? base::kIpv4HeaderSize : base::kIpv6HeaderSize;
  const std::size_t frame = payload == Payload::EthernetFrame ? base::kEthernetHeaderSize : 0;
  return ip + base::kUdpHeaderSize + kDataOverhead + frame;
}

std::optional<std::size_t> inner_mtu(std::size_t underlay_mtu, UnderlayFamily family, Payload payload) {
  const std::size_t overhead = encapsulation_overhead(family, payload);
  if (underlay_mtu > kMaxUnderlayMtu || underlay_mtu < overhead + kMinInnerMtu) return std::nullopt;
  return underlay_mtu - overhead;
}

std::optional<std::size_t> inner_mtu_of_path(std::size_t device_mtu,
                                             std::optional<std::size_t> route_mtu,
                                             UnderlayFamily family, Payload payload) {
  return inner_mtu(std::min(device_mtu, route_mtu.value_or(device_mtu)), family, payload);
}

}  // namespace squtun::protocol
