#include "protocol/mtu.h"

#include "protocol/constants.h"

namespace squtun::protocol {

std::size_t encapsulation_overhead(UnderlayFamily family) {
  const std::size_t ip = family == UnderlayFamily::V4 ? kIpv4HeaderSize : kIpv6HeaderSize;
  return ip + kUdpHeaderSize + kDataOverhead;
}

std::optional<std::size_t> inner_mtu(std::size_t underlay_mtu, UnderlayFamily family) {
  const std::size_t overhead = encapsulation_overhead(family);
  if (underlay_mtu > kMaxUnderlayMtu || underlay_mtu < overhead + kMinInnerMtu) return std::nullopt;
  return underlay_mtu - overhead;
}

}  // namespace squtun::protocol
