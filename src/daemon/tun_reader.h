#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "net/datagram_batch.h"
#include "protocol/counters.h"
#include "tun/gso_splitter.h"
#include "tun/tun_device.h"

namespace squtun::daemon {

// Fills a batch's slots with inner packets read from the TUN device, each at
// kDataHeaderSize in its slot where seal_packet encrypts it in place. On a device with a
// vnet header a read may return a GSO super-packet of up to 64 KiB: it is cut into
// packets of the interface's MTU, and one that does not fit the batch is continued in the
// next.
class TunReader {
 public:
  TunReader(tun::TunDevice& tun, protocol::Counters& counters);

  // Returns how many packets it put in slots [0, n) (also set as the batch's count).
  std::size_t read_batch(net::DatagramBatch& batch);

 private:
  std::size_t read_plain(net::DatagramBatch& batch);
  std::size_t read_offloaded(net::DatagramBatch& batch);
  // Reads the next super-packet into super_ and starts the splitter on it.
  bool read_super_packet();

  tun::TunDevice& tun_;
  protocol::Counters& counters_;
  std::vector<std::uint8_t> super_;
  tun::GsoSplitter splitter_;
  bool splitting_ = false;
};

}  // namespace squtun::daemon
