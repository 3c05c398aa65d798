#include "daemon/tun_reader.h"

#include "protocol/constants.h"
#include "tun/vnet_header.h"

namespace squtun::daemon {

using protocol::DropReason;
using protocol::kDataHeaderSize;
using protocol::kMaxInnerPacket;

namespace {

// A super-packet is at most 64 KiB of IP packet behind its vnet header; one byte more
// tells an oversized read from a full one.
constexpr std::size_t kSuperPacketRoom = tun::kVnetHeaderSize + 65536 + 1;

std::span<std::uint8_t> inner_room(net::DatagramBatch& batch, std::size_t i) {
  return batch.slot(i).subspan(kDataHeaderSize, kMaxInnerPacket + 1);
}

}  // namespace

TunReader::TunReader(tun::TunDevice& tun, protocol::Counters& counters)
    : tun_(tun), counters_(counters), super_(tun.offloads().vnet_header ? kSuperPacketRoom : 0) {}

std::size_t TunReader::read_batch(net::DatagramBatch& batch) {
  const std::size_t n = tun_.offloads().vnet_header ? read_offloaded(batch) : read_plain(batch);
  batch.set_count(n);
  return n;
}

std::size_t TunReader::read_plain(net::DatagramBatch& batch) {
  std::size_t n = 0;
  for (std::size_t reads = 0; reads < 2 * batch.capacity() && n < batch.capacity(); ++reads) {
    const long size = tun_.read_packet(inner_room(batch, n));
    if (size <= 0) break;
    if (static_cast<std::size_t>(size) > kMaxInnerPacket) {
      counters_.drop(DropReason::TooBig);
      continue;
    }
    batch.length(n++) = static_cast<std::size_t>(size);
  }
  return n;
}

std::size_t TunReader::read_offloaded(net::DatagramBatch& batch) {
  std::size_t n = 0;
  std::size_t reads = 0;
  while (n < batch.capacity()) {
    if (splitting_) {
      const std::size_t size = splitter_.next(inner_room(batch, n).first(kMaxInnerPacket));
      if (size > 0) {
        batch.length(n++) = size;
        continue;
      }
      if (splitter_.status() != tun::SplitStatus::Ok) counters_.drop(DropReason::TunRead);
      splitting_ = false;
    }
    if (reads++ == 2 * batch.capacity() || !read_super_packet()) break;
  }
  return n;
}

bool TunReader::read_super_packet() {
  const long size = tun_.read_packet(super_);
  if (size <= 0) return false;
  const auto bytes = std::span<const std::uint8_t>(super_).first(static_cast<std::size_t>(size));
  const auto header = tun::parse_vnet_header(bytes);
  if (!header || static_cast<std::size_t>(size) == super_.size() ||
      splitter_.start(*header, bytes.subspan(tun::kVnetHeaderSize)) != tun::SplitStatus::Ok) {
    counters_.drop(DropReason::TunRead);
    return true;
  }
  splitting_ = true;
  return true;
}

}  // namespace squtun::daemon
