#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "net/fd.h"
#include "protocol/endpoint.h"

namespace squtun::net {

// A batch of datagrams with preallocated buffers and kernel message headers, so one
// recvmmsg/sendmmsg moves many datagrams and the steady state allocates nothing.
class DatagramBatch {
 public:
  DatagramBatch(std::size_t capacity, std::size_t slot_size);

  std::size_t capacity() const { return lengths_.size(); }
  std::size_t slot_size() const { return slot_size_; }
  std::size_t count() const { return count_; }
  void set_count(std::size_t n) { count_ = n; }

  std::span<std::uint8_t> slot(std::size_t i) {
    return {storage_.data() + i * slot_size_, slot_size_};
  }
  std::span<std::uint8_t> datagram(std::size_t i) { return slot(i).first(lengths_[i]); }
  std::size_t& length(std::size_t i) { return lengths_[i]; }
  protocol::Endpoint& endpoint(std::size_t i) { return endpoints_[i]; }

 private:
  friend class UdpSocket;
  std::size_t slot_size_;
  std::size_t count_ = 0;
  std::vector<std::uint8_t> storage_;
  std::vector<std::size_t> lengths_;
  std::vector<protocol::Endpoint> endpoints_;
  std::vector<mmsghdr> headers_;
  std::vector<iovec> iovecs_;
  std::vector<sockaddr_storage> addresses_;
};

struct SendResult {
  std::size_t sent = 0;    // datagrams the kernel took
  std::size_t failed = 0;  // datagrams dropped on an error other than a full buffer
};

// A non-blocking UDP socket. Bound to the IPv6 wildcard with IPV6_V6ONLY off (dual
// stack) when the host has IPv6, else to the IPv4 wildcard; or to one given address.
class UdpSocket {
 public:
  // Throws std::runtime_error naming the port and the cause (e.g. "port 7777 in use").
  static UdpSocket bind_any(std::uint16_t port);
  // Bound to one local address and port (-b): speaks only that address's family.
  static UdpSocket bind_to(const protocol::Endpoint& local);

  int fd() const { return fd_.get(); }
  bool dual_stack() const { return dual_stack_; }
  std::uint16_t local_port() const;

  // Receives up to batch.capacity() datagrams without blocking; sets batch.count().
  // Returns false on EAGAIN with nothing received.
  bool receive(DatagramBatch& batch);

  // Sends datagrams [0, batch.count()) to their endpoints. Blocks (poll) while the
  // socket buffer is full so no datagram is silently lost to EAGAIN.
  SendResult send(DatagramBatch& batch);

  // Sends one datagram (control messages).
  bool send_one(std::span<const std::uint8_t> data, const protocol::Endpoint& to);

 private:
  UdpSocket(Fd fd, bool dual_stack) : fd_(std::move(fd)), dual_stack_(dual_stack) {}
  Fd fd_;
  bool dual_stack_;
};

}  // namespace squtun::net
