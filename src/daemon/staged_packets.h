#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "net/udp_socket.h"
#include "protocol/constants.h"
#include "protocol/counters.h"

namespace squtun::daemon {

// Inner packets read while no session was up, held until a handshake completes, so the
// first packets of a conversation (a ping, a TCP SYN) are sent instead of lost. Bounded
// in count and size, allocated once, and only packets young enough are released. A held
// packet is not dropped (yet): the ones it cannot hold or that grow too old are, and it
// counts them.
class StagedPackets {
 public:
  static constexpr std::size_t kCapacity = 32;
  static constexpr std::size_t kMaxPacket = 2048;  // larger packets are not held
  static constexpr protocol::Duration kMaxAge = std::chrono::seconds(5);

  explicit StagedPackets(protocol::Counters& counters);

  // Copies the batch's inner packets (at kDataHeaderSize in each slot) while room lasts;
  // returns how many it kept, and counts the others as dropped for `unsent`.
  std::size_t hold(net::DatagramBatch& batch, protocol::Duration now, protocol::DropReason unsent);

  // Puts the held packets not older than kMaxAge back into `batch` as inner packets, in
  // the order they came, and forgets all of them. Returns how many; the too old ones
  // count as dropped for want of a session.
  std::size_t release(net::DatagramBatch& batch, protocol::Duration now);

  std::size_t size() const { return count_; }

 private:
  protocol::Counters& counters_;
  std::vector<std::uint8_t> storage_;
  std::array<std::size_t, kCapacity> lengths_{};
  std::array<protocol::Duration, kCapacity> held_at_{};
  std::size_t count_ = 0;
};

}  // namespace squtun::daemon
