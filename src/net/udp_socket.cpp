#include "net/udp_socket.h"

#include <netinet/in.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "net/sockaddr.h"

namespace squtun::net {

namespace {

constexpr int kSocketBufferBytes = 4 * 1024 * 1024;
constexpr int kFullBufferWaitMs = 100;
// Bounds how long send() stalls on a socket that never drains (e.g. the route is gone
// and the qdisc keeps answering ENOBUFS), so the data path cannot hang forever.
constexpr int kMaxWaitsWithoutProgress = 20;

std::string listen_error_hint(int err) {
  switch (err) {
    case EADDRINUSE:
      return " (another squtun or service uses it; pick another -l port)";
    case EACCES:
      return " (ports below 1024 need root or CAP_NET_BIND_SERVICE; pick another -l port)";
    case EADDRNOTAVAIL:
      return " (-b must be an address of this host's interfaces; a new IPv6 address may still be "
             "tentative while duplicate address detection runs)";
    default:
      return "";
  }
}

[[noreturn]] void throw_listen_error(std::uint16_t port, int err, const std::string& address = "") {
  throw std::runtime_error("cannot listen on " + (address.empty() ? "" : address + " ") + "UDP port " +
                           std::to_string(port) + ": " + std::strerror(err) + listen_error_hint(err));
}

// The FORCE variants exceed net.core.{r,w}mem_max but need CAP_NET_ADMIN; without it the
// plain option still gets as much as the sysctl allows. Neither failure is fatal: a
// smaller buffer only costs throughput.
void enlarge_buffer(int fd, int force_option, int option) {
  const int bytes = kSocketBufferBytes;
  if (::setsockopt(fd, SOL_SOCKET, force_option, &bytes, sizeof bytes) == 0) return;
  ::setsockopt(fd, SOL_SOCKET, option, &bytes, sizeof bytes);
}

Fd open_socket(int family) {
  return Fd(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
}

socklen_t wildcard_address(bool dual_stack, std::uint16_t port, sockaddr_storage& out) {
  protocol::Endpoint any;
  any.family = dual_stack ? protocol::Endpoint::Family::V6 : protocol::Endpoint::Family::V4;
  any.port = port;
  return sockaddr_from_endpoint(any, dual_stack, out);
}

bool is_full_buffer(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS; }

// EAGAIN clears when the socket buffer drains, which poll reports; ENOBUFS comes from a
// full device queue that poll cannot see, so that case just pauses briefly.
void wait_for_buffer_space(int fd, int err) {
  pollfd pfd{fd, POLLOUT, 0};
  if (err == ENOBUFS) {
    ::poll(nullptr, 0, 1);
  } else {
    ::poll(&pfd, 1, kFullBufferWaitMs);
  }
}

void point_header(mmsghdr& header, iovec& iov, std::span<std::uint8_t> data,
                  sockaddr_storage& address, socklen_t address_length) {
  iov.iov_base = data.data();
  iov.iov_len = data.size();
  header = mmsghdr{};
  header.msg_hdr.msg_name = &address;
  header.msg_hdr.msg_namelen = address_length;
  header.msg_hdr.msg_iov = &iov;
  header.msg_hdr.msg_iovlen = 1;
}

}  // namespace

DatagramBatch::DatagramBatch(std::size_t capacity, std::size_t slot_size)
    : slot_size_(slot_size),
      storage_(capacity * slot_size),
      lengths_(capacity),
      endpoints_(capacity),
      headers_(capacity),
      iovecs_(capacity),
      addresses_(capacity) {}

UdpSocket UdpSocket::bind_any(std::uint16_t port) {
  bool dual_stack = true;
  Fd fd = open_socket(AF_INET6);
  if (!fd.valid() && errno == EAFNOSUPPORT) {
    dual_stack = false;
    fd = open_socket(AF_INET);
  }
  if (!fd.valid()) throw_listen_error(port, errno);

  const int v6only = 0;
  if (dual_stack &&
      ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) != 0) {
    throw_listen_error(port, errno);
  }
  enlarge_buffer(fd.get(), SO_RCVBUFFORCE, SO_RCVBUF);
  enlarge_buffer(fd.get(), SO_SNDBUFFORCE, SO_SNDBUF);

  sockaddr_storage address;
  const socklen_t length = wildcard_address(dual_stack, port, address);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0) {
    throw_listen_error(port, errno);
  }
  return UdpSocket(std::move(fd), dual_stack);
}

UdpSocket UdpSocket::bind_to(const protocol::Endpoint& local) {
  if (!local.valid()) throw_listen_error(local.port, EAFNOSUPPORT, "an invalid address");
  const bool v6 = local.family == protocol::Endpoint::Family::V6;
  std::string address = local.to_string();
  address = address.substr(0, address.rfind(':'));  // "[2001:2::1]" or "198.18.0.1": the port is named apart
  Fd fd = open_socket(v6 ? AF_INET6 : AF_INET);
  if (!fd.valid()) throw_listen_error(local.port, errno, address);
  const int v6only = 1;
  if (v6 && ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) != 0) {
    throw_listen_error(local.port, errno, address);
  }
  enlarge_buffer(fd.get(), SO_RCVBUFFORCE, SO_RCVBUF);
  enlarge_buffer(fd.get(), SO_SNDBUFFORCE, SO_SNDBUF);
  sockaddr_storage storage;
  const socklen_t length = sockaddr_from_endpoint(local, false, storage);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&storage), length) != 0) {
    throw_listen_error(local.port, errno, address);
  }
  return UdpSocket(std::move(fd), false);
}

std::uint16_t UdpSocket::local_port() const {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  return endpoint_from_sockaddr(address).port;
}

// The headers are re-pointed at the batch's own buffers on every call rather than once in
// the constructor, so a copied or moved batch never hands the kernel stale pointers.
bool UdpSocket::receive(DatagramBatch& batch) {
  const std::size_t capacity = batch.capacity();
  for (std::size_t i = 0; i < capacity; ++i) {
    point_header(batch.headers_[i], batch.iovecs_[i], batch.slot(i), batch.addresses_[i],
                 sizeof(sockaddr_storage));
  }
  batch.set_count(0);
  int received;
  do {
    received = ::recvmmsg(fd_.get(), batch.headers_.data(), static_cast<unsigned>(capacity),
                          MSG_DONTWAIT, nullptr);
  } while (received < 0 && errno == EINTR);
  if (received <= 0) return false;

  // A datagram longer than a slot arrives truncated to the slot; its length then no longer
  // matches what the peer sent and the receiver's authentication rejects it.
  for (int i = 0; i < received; ++i) {
    batch.length(i) = batch.headers_[i].msg_len;
    batch.endpoint(i) = endpoint_from_sockaddr(batch.addresses_[i]);
  }
  batch.set_count(static_cast<std::size_t>(received));
  return true;
}

SendResult UdpSocket::send(DatagramBatch& batch) {
  const std::size_t total = batch.count();
  for (std::size_t i = 0; i < total; ++i) {
    const socklen_t address_length =
        sockaddr_from_endpoint(batch.endpoint(i), dual_stack_, batch.addresses_[i]);
    point_header(batch.headers_[i], batch.iovecs_[i], batch.datagram(i), batch.addresses_[i],
                 address_length);
  }

  SendResult result;
  std::size_t next = 0;
  int waits_without_progress = 0;
  while (next < total) {
    const int sent = ::sendmmsg(fd_.get(), batch.headers_.data() + next,
                                static_cast<unsigned>(total - next), 0);
    if (sent > 0) {
      next += static_cast<std::size_t>(sent);
      result.sent += static_cast<std::size_t>(sent);
      waits_without_progress = 0;
    } else if (errno == EINTR) {
      continue;
    } else if (is_full_buffer(errno)) {
      if (waits_without_progress++ == kMaxWaitsWithoutProgress) break;
      wait_for_buffer_space(fd_.get(), errno);
    } else {
      // sendmmsg reports an error only when the first datagram failed (bad address, too
      // large, unreachable); dropping just that one lets the rest of the batch go out.
      ++next;
      ++result.failed;
    }
  }
  result.failed += total - next;
  return result;
}

bool UdpSocket::send_one(std::span<const std::uint8_t> data, const protocol::Endpoint& to) {
  sockaddr_storage address;
  const socklen_t length = sockaddr_from_endpoint(to, dual_stack_, address);
  for (int waits = 0;; ++waits) {
    const ssize_t sent = ::sendto(fd_.get(), data.data(), data.size(), 0,
                                  reinterpret_cast<const sockaddr*>(&address), length);
    if (sent >= 0) return true;
    if (errno == EINTR) continue;
    if (!is_full_buffer(errno) || waits == kMaxWaitsWithoutProgress) return false;
    wait_for_buffer_space(fd_.get(), errno);
  }
}

}  // namespace squtun::net
