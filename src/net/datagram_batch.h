#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <numeric>
#include <span>
#include <vector>

#include "base/endpoint.h"

namespace squtun::net {

// A batch of datagrams with preallocated buffers and kernel message headers, so one
// recvmmsg/sendmmsg moves many datagrams and the steady state allocates nothing.
//
// Outbound: fill slot(i), length(i) and endpoint(i) for i < n, then set_count(n); datagram
// i is slot i. Inbound (UdpSocket::receive): one slot may hold several datagrams the
// kernel coalesced (UDP GRO). They are presented one by one, without copying: count() may
// exceed capacity() (up to max_count()), datagram(i) points inside its slot and
// endpoint(i) is its source. GRO fills a slot with up to 64 KiB, so a receiving batch
// whose socket has GRO on wants slots of kGroSlotSize; smaller slots cut coalesced
// datagrams short and those count as dropped().
class DatagramBatch {
 public:
  // Segments in one GSO send and, from another squtun or the network's GRO
  // (UDP_GRO_CNT_MAX), in one GRO slot. Recent kernels accept 128 per send, older ones
  // 64 (UDP_MAX_SEGMENTS): 64 works everywhere.
  static constexpr std::size_t kMaxSegments = 64;
  static constexpr std::size_t kGroSlotSize = 65536;
  static constexpr std::size_t max_count(std::size_t capacity) { return capacity * kMaxSegments; }

  // When the storage's pages become resident. Upfront: all of it at construction, so memory
  // use does not grow later with the first large datagrams (or junk) that reach a slot's
  // far end; for receiving. OnFirstUse: as what is written touches them; for a batch whose
  // datagrams never grow beyond what its writer puts there (outbound, the device's MTU).
  enum class Residency { Upfront, OnFirstUse };

  DatagramBatch(std::size_t capacity, std::size_t slot_size,
                Residency residency = Residency::Upfront);

  std::size_t capacity() const { return slot_count_; }
  std::size_t slot_size() const { return slot_size_; }
  std::size_t max_count() const { return max_count(slot_count_); }
  std::size_t count() const { return count_; }
  // Makes datagrams [0, n) those of slots [0, n) again (outbound); n <= capacity(), and
  // send() takes only the first capacity() datagrams.
  void set_count(std::size_t n);

  std::span<std::uint8_t> slot(std::size_t i) {
    return {storage_.get() + i * slot_size_, slot_size_};
  }
  std::span<std::uint8_t> datagram(std::size_t i) {
    return {storage_.get() + offsets_[i], lengths_[i]};
  }
  std::size_t& length(std::size_t i) { return lengths_[i]; }
  base::Endpoint& endpoint(std::size_t i) { return endpoints_[i]; }

  // Datagrams the last receive took from the kernel but could not present: cut short by
  // a slot too small, or beyond max_count().
  std::size_t dropped() const { return dropped_; }

 private:
  friend class UdpSocket;
  struct alignas(cmsghdr) Control {
    std::uint8_t bytes[CMSG_SPACE(sizeof(int))];
  };

  // Points one message per slot at the slots; with GRO each also gets a control buffer.
  unsigned prepare_receive(bool gro);
  // Turns the first `messages` received slots into datagrams.
  void take_received(unsigned messages);
  void take_slot(std::size_t s);
  void add_datagram(std::size_t offset, std::size_t length, const base::Endpoint& from);

  // Builds messages for datagrams [first, end): with GSO, runs to one endpoint of one
  // length (the last may be shorter) become one message each. Returns how many.
  unsigned prepare_send(std::size_t first, std::size_t end, bool dual_stack, bool gso);
  std::size_t run_end(std::size_t first, std::size_t end) const;
  // Only slots have room for iovecs and headers: a send takes at most capacity().
  std::size_t sendable() const { return count_ < slot_count_ ? count_ : slot_count_; }
  void point_send_message(std::size_t m, std::size_t first, std::size_t end, bool dual_stack);
  // Datagrams in messages [m, end), their bytes, and the first datagram of message m.
  std::size_t datagrams_in(std::size_t m, std::size_t end) const {
    return message_start_[end] - message_start_[m];
  }
  std::size_t bytes_in(std::size_t m, std::size_t end) const {
    return std::accumulate(lengths_.begin() + message_start_[m], lengths_.begin() + message_start_[end], std::size_t{0});
  }
  std::size_t message_start(std::size_t m) const { return message_start_[m]; }

  std::size_t slot_count_;
  std::size_t slot_size_;
  std::size_t count_ = 0;
  std::size_t dropped_ = 0;
  std::unique_ptr<std::uint8_t[]> storage_;
  // Per datagram (max_count() of each): where it starts in storage_, its length, its peer.
  std::vector<std::size_t> offsets_;
  std::vector<std::size_t> lengths_;
  std::vector<base::Endpoint> endpoints_;
  // Per message: at most one per slot either way.
  std::vector<mmsghdr> headers_;
  std::vector<sockaddr_storage> addresses_;
  std::vector<Control> controls_;
  std::vector<std::size_t> message_start_;  // capacity + 1: message m sends [start[m], start[m+1])
  // One per slot on receive, one per datagram on send.
  std::vector<iovec> iovecs_;
};

}  // namespace squtun::net
