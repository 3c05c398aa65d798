#include "net/datagram_batch.h"

#include <netinet/in.h>
#include <netinet/udp.h>

#include <algorithm>
#include <cstring>

#include "base/header_sizes.h"
#include "net/sockaddr.h"

namespace squtun::net {

namespace {

// The most UDP payload one GSO message carries whole to the receiver. The kernel takes
// more (65507 over IPv4, 65527 over IPv6, beyond that EMSGSIZE), but a train whose frame
// with its 14-byte Ethernet header exceeds 65535 bytes is cut into single datagrams in
// software on its way (measured on loopback, 6.18: 65493 bytes of IPv4 payload arrive as
// one train at a GRO socket, 65494 one by one; 65473 and 65474 over IPv6). IPv4-mapped
// addresses on a dual-stack socket leave as IPv4.
constexpr std::size_t kMaxFrame = 65535;
constexpr std::size_t kMaxGsoPayloadV4 =
    kMaxFrame - base::kEthernetHeaderSize - base::kIpv4HeaderSize - base::kUdpHeaderSize;
constexpr std::size_t kMaxGsoPayloadV6 =
    kMaxFrame - base::kEthernetHeaderSize - base::kIpv6HeaderSize - base::kUdpHeaderSize;

std::size_t max_gso_payload(const base::Endpoint& to) {
  return to.family == base::Endpoint::Family::V6 ? kMaxGsoPayloadV6 : kMaxGsoPayloadV4;
}

// 0 when the slot holds a single datagram.
std::size_t gro_segment_size(msghdr& header) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr; c = CMSG_NXTHDR(&header, c)) {
    if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
      int size = 0;
      std::memcpy(&size, CMSG_DATA(c), sizeof size);
      return size > 0 ? static_cast<std::size_t>(size) : 0;
    }
  }
  return 0;
}

void attach_segment_size(msghdr& header, void* control, std::uint16_t segment_size) {
  header.msg_control = control;
  header.msg_controllen = CMSG_SPACE(sizeof segment_size);
  cmsghdr* c = CMSG_FIRSTHDR(&header);
  c->cmsg_level = SOL_UDP;
  c->cmsg_type = UDP_SEGMENT;
  c->cmsg_len = CMSG_LEN(sizeof segment_size);
  std::memcpy(CMSG_DATA(c), &segment_size, sizeof segment_size);
}

}  // namespace

DatagramBatch::DatagramBatch(std::size_t capacity, std::size_t slot_size, Residency residency)
    : slot_count_(capacity),
      slot_size_(slot_size),
      // Zeroing writes every page; memory left for overwriting is the kernel's zero page
      // until written.
      storage_(residency == Residency::Upfront
                   ? std::make_unique<std::uint8_t[]>(capacity * slot_size)
                   : std::make_unique_for_overwrite<std::uint8_t[]>(capacity * slot_size)),
      offsets_(max_count(capacity)),
      lengths_(max_count(capacity)),
      endpoints_(max_count(capacity)),
      headers_(capacity),
      addresses_(capacity),
      controls_(capacity),
      message_start_(capacity + 1),
      iovecs_(capacity) {
  for (std::size_t i = 0; i < capacity; ++i) offsets_[i] = i * slot_size_;
}

void DatagramBatch::set_count(std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) offsets_[i] = i * slot_size_;
  count_ = n;
}

// The headers are re-pointed at the batch's own buffers on every call rather than once in
// the constructor, so a copied or moved batch never hands the kernel stale pointers.
unsigned DatagramBatch::prepare_receive(bool gro) {
  for (std::size_t s = 0; s < slot_count_; ++s) {
    iovecs_[s] = {slot(s).data(), slot_size_};
    msghdr& h = headers_[s].msg_hdr;
    h = msghdr{};
    h.msg_name = &addresses_[s];
    h.msg_namelen = sizeof(sockaddr_storage);
    h.msg_iov = &iovecs_[s];
    h.msg_iovlen = 1;
    if (gro) {
      h.msg_control = controls_[s].bytes;
      h.msg_controllen = sizeof controls_[s].bytes;
    }
  }
  count_ = 0;
  dropped_ = 0;
  return static_cast<unsigned>(slot_count_);
}

void DatagramBatch::take_received(unsigned messages) {
  for (std::size_t s = 0; s < messages; ++s) take_slot(s);
}

// msg_len is the length the kernel had (the socket receives with MSG_TRUNC), which may
// exceed the slot. Without the control message a GRO slot cannot be split, so a slot
// whose control was cut short (MSG_CTRUNC) is dropped whole.
void DatagramBatch::take_slot(std::size_t s) {
  msghdr& h = headers_[s].msg_hdr;
  const std::size_t length = headers_[s].msg_len;
  const std::size_t copied = std::min(length, slot_size_);
  if ((h.msg_flags & MSG_CTRUNC) != 0) {
    ++dropped_;
    return;
  }
  const std::size_t segment = h.msg_control != nullptr ? gro_segment_size(h) : 0;
  const base::Endpoint from = endpoint_from_sockaddr(addresses_[s]);
  const std::size_t start = s * slot_size_;
  if (segment == 0) {
    if (length > copied) {
      ++dropped_;  // cut short, it could never authenticate
    } else {
      add_datagram(start, length, from);
    }
    return;
  }
  for (std::size_t offset = 0; offset < length; offset += segment) {
    const std::size_t size = std::min(segment, length - offset);
    if (offset + size > copied || count_ == max_count()) {
      dropped_ += (length - offset + segment - 1) / segment;
      return;
    }
    add_datagram(start + offset, size, from);
  }
}

void DatagramBatch::add_datagram(std::size_t offset, std::size_t length,
                                 const base::Endpoint& from) {
  offsets_[count_] = offset;
  lengths_[count_] = length;
  endpoints_[count_] = from;
  ++count_;
}

unsigned DatagramBatch::prepare_send(std::size_t first, std::size_t end, bool dual_stack, bool gso) {
  std::size_t m = 0;
  for (std::size_t i = first; i < end; ++m) {
    const std::size_t next = gso ? run_end(i, end) : i + 1;
    message_start_[m] = i;
    point_send_message(m, i, next, dual_stack);
    i = next;
  }
  message_start_[m] = end;
  return static_cast<unsigned>(m);
}

// A run ends at another endpoint or length, after a shorter datagram (the kernel cuts
// every segment but the last to gso_size), at kMaxSegments, or where the payload would
// outgrow one IP datagram.
std::size_t DatagramBatch::run_end(std::size_t first, std::size_t end) const {
  const std::size_t size = lengths_[first];
  const base::Endpoint& to = endpoints_[first];
  const std::size_t limit = max_gso_payload(to);
  std::size_t total = size;
  std::size_t i = first + 1;
  while (size > 0 && i < end && i - first < kMaxSegments && endpoints_[i] == to) {
    const std::size_t next = lengths_[i];
    if (next == 0 || next > size || total + next > limit) break;
    total += next;
    ++i;
    if (next < size) break;
  }
  return i;
}

void DatagramBatch::point_send_message(std::size_t m, std::size_t first, std::size_t end, bool dual_stack) {
  for (std::size_t i = first; i < end; ++i) iovecs_[i] = {storage_.get() + offsets_[i], lengths_[i]};
  msghdr& h = headers_[m].msg_hdr;
  h = msghdr{};
  h.msg_name = &addresses_[m];
  h.msg_namelen = sockaddr_from_endpoint(endpoints_[first], dual_stack, addresses_[m]);
  h.msg_iov = &iovecs_[first];
  h.msg_iovlen = end - first;
  if (end - first > 1) attach_segment_size(h, controls_[m].bytes, static_cast<std::uint16_t>(lengths_[first]));
}

}  // namespace squtun::net
