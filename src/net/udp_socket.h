#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/endpoint.h"
#include "base/fd.h"
#include "net/datagram_batch.h"

namespace squtun::net {

// What a socket asks of the kernel. Offloads (UDP GSO on send, GRO on receive) are used
// only as far as the kernel accepts them; without, the socket moves one datagram per
// message with plain sendmmsg/recvmmsg.
struct SocketOptions {
  bool offload = true;
};

struct SendResult {
  std::size_t sent = 0;    // datagrams the kernel took
  std::size_t failed = 0;  // datagrams dropped on an error other than a full buffer
  std::size_t bytes = 0;   // in the datagrams the kernel took
};

// A non-blocking UDP socket. Bound to the IPv6 wildcard with IPV6_V6ONLY off (dual
// stack) when the host has IPv6, else to the IPv4 wildcard; or to one given address.
class UdpSocket {
 public:
  // Throws std::runtime_error naming the port and the cause (e.g. "port 7777 in use").
  static UdpSocket bind_any(std::uint16_t port, SocketOptions options = {});
  // Bound to one local address and port (-b): speaks only that address's family.
  static UdpSocket bind_to(const base::Endpoint& local, SocketOptions options = {});

  int fd() const { return fd_.get(); }
  bool dual_stack() const { return dual_stack_; }
  std::uint16_t local_port() const;
  // GSO turns itself off for good the first time the kernel refuses GSO itself (EIO,
  // EINVAL, EOPNOTSUPP or ENOPROTOOPT on a GSO message whose datagrams then go out one
  // by one); read it from the sending thread.
  bool gso_enabled() const { return gso_; }
  bool gro_enabled() const { return gro_; }

  // Receives up to batch.capacity() messages without blocking; sets batch.count(), which
  // with GRO may exceed the capacity (see DatagramBatch). Returns false on EAGAIN with
  // nothing received.
  bool receive(DatagramBatch& batch);

  // Sends datagrams [0, batch.count()) to their endpoints, with GSO in as few messages
  // as it allows. Blocks (poll) while the socket buffer is full so no datagram is
  // silently lost to EAGAIN. Counts are in datagrams.
  SendResult send(DatagramBatch& batch);

  // Sends one datagram (control messages).
  bool send_one(std::span<const std::uint8_t> data, const base::Endpoint& to);

 private:
  UdpSocket(base::Fd fd, bool dual_stack) : fd_(std::move(fd)), dual_stack_(dual_stack) {}
  void enable_offloads();
  // Datagrams [first, end) of a GSO message the kernel refused; empty if none was.
  struct Refused {
    std::size_t first;
    std::size_t end;
    bool gso_error;  // an error that can mean the kernel or route has no GSO
  };
  Refused send_range(DatagramBatch& batch, std::size_t first, std::size_t end, bool gso, SendResult& result);
  base::Fd fd_;
  bool dual_stack_;
  bool gso_ = false;
  bool gro_ = false;
};

}  // namespace squtun::net
