#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "protocol/counters.h"
#include "tun/gro_coalescer.h"
#include "tun/tun_device.h"

namespace squtun::daemon {

// Writes a batch's opened inner packets to the TUN device. On a device with a vnet header
// consecutive packets of one TCP (or, with USO, UDP) flow are first merged into one
// super-packet per write; the packets of a flow keep their order.
class TunWriter {
 public:
  TunWriter(tun::TunDevice& tun, protocol::Counters& counters, std::size_t max_packets);

  // Takes one inner packet; it must stay where it is until flush().
  void add(std::span<std::uint8_t> packet);
  // Writes everything added since the last flush.
  void flush();

 private:
  void write_failed();

  tun::TunDevice& tun_;
  protocol::Counters& counters_;
  tun::GroCoalescer coalescer_;
  const bool coalescing_;
};

}  // namespace squtun::daemon
