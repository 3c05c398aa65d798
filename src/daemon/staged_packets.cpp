#include "daemon/staged_packets.h"

#include <algorithm>

namespace squtun::daemon {

using protocol::kDataHeaderSize;

StagedPackets::StagedPackets(protocol::Counters& counters) : counters_(counters), storage_(kCapacity * kMaxPacket) {}

std::size_t StagedPackets::hold(net::DatagramBatch& batch, protocol::Duration now, protocol::DropReason unsent) {
  std::size_t kept = 0;
  for (std::size_t i = 0; i < batch.count() && count_ < kCapacity; ++i) {
    const std::size_t length = batch.length(i);
    if (length > kMaxPacket) continue;
    const auto packet = batch.slot(i).subspan(kDataHeaderSize, length);
    std::copy(packet.begin(), packet.end(), storage_.begin() + static_cast<std::ptrdiff_t>(count_ * kMaxPacket));
    lengths_[count_] = length;
    held_at_[count_] = now;
    ++count_;
    ++kept;
  }
  counters_.drop(unsent, batch.count() - kept);
  return kept;
}

std::size_t StagedPackets::release(net::DatagramBatch& batch, protocol::Duration now) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < count_ && n < batch.capacity(); ++i) {
    if (now - held_at_[i] > kMaxAge) continue;
    const auto first = storage_.begin() + static_cast<std::ptrdiff_t>(i * kMaxPacket);
    std::copy(first, first + static_cast<std::ptrdiff_t>(lengths_[i]), batch.slot(n).begin() + kDataHeaderSize);
    batch.length(n++) = lengths_[i];
  }
  batch.set_count(n);
  counters_.drop(protocol::DropReason::NoSession, count_ - n);
  count_ = 0;
  return n;
}

}  // namespace squtun::daemon
