#include "daemon/tun_writer.h"

#include <cerrno>
#include <cstring>

#include "daemon/log.h"

namespace squtun::daemon {

TunWriter::TunWriter(tun::TunDevice& tun, protocol::Counters& counters, std::size_t max_packets)
    : tun_(tun),
      counters_(counters),
      coalescer_(tun.offloads().uso, tun::GroLimits{.max_packets = max_packets}),
      coalescing_(tun.offloads().vnet_header) {}

void TunWriter::add(std::span<std::uint8_t> packet) {
  if (!coalescing_) {
    if (!tun_.write_packet(packet)) write_failed();
    return;
  }
  if (!coalescer_.add(packet)) {
    flush();
    coalescer_.add(packet);
  }
}

void TunWriter::flush() {
  if (!coalescing_) return;
  for (std::size_t i = 0; i < coalescer_.write_count(); ++i) {
    if (!tun_.write_gathered(coalescer_.write(i))) write_failed();
  }
  coalescer_.reset();
}

// Counted per write: a refused super-packet counts once, like the packet it replaced.
void TunWriter::write_failed() {
  const int error = errno;
  counters_.drop(protocol::DropReason::TunWrite);
  log_warning_limited("tun-write", [&] {
    return "cannot write a packet to " + tun_.name() + ": " + std::strerror(error) +
           (error == EIO ? " (is the interface down?)" : "");
  });
}

}  // namespace squtun::daemon
