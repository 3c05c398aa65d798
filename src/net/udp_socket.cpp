#include "net/udp_socket.h"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "net/sockaddr.h"

namespace squtun::net {

namespace {

// The receive queue must ride out the moments the inbound thread is off the CPU while
// datagrams keep coming (250k/s and more, or a handshake flood). The kernel charges each
// datagram's truesize (2304 bytes for 1452 bytes on loopback, about 1475 inside a GRO
// train, up to a 4 KiB page per frame on some NICs) against twice the size asked for.
// Measured on 2 shared cores, 250k datagrams/s of 1452 bytes, the receiver pausing
// 10/20/40 ms every 100 ms: 4 MiB dropped at each pause length (/proc/net/snmp
// RcvbufErrors), 8 MiB still at 40 ms, 16 MiB never (it holds ~14k single datagrams, 58
// ms at that rate, or ~22k in GRO trains). It is kernel memory, used only while the queue
// is full, and net.ipv4.udp_mem bounds all UDP sockets together. Sending blocks instead
// of dropping when its buffer is full, so 4 MiB (~85 GSO trains of 64 KiB) is plenty.
constexpr int kReceiveBufferBytes = 16 * 1024 * 1024;
constexpr int kSendBufferBytes = 4 * 1024 * 1024;
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
void enlarge_buffer(int fd, int force_option, int option, int bytes) {
  if (::setsockopt(fd, SOL_SOCKET, force_option, &bytes, sizeof bytes) == 0) return;
  ::setsockopt(fd, SOL_SOCKET, option, &bytes, sizeof bytes);
}

base::Fd open_socket(int family) {
  return base::Fd(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
}

socklen_t wildcard_address(bool dual_stack, std::uint16_t port, sockaddr_storage& out) {
  base::Endpoint any;
  any.family = dual_stack ? base::Endpoint::Family::V6 : base::Endpoint::Family::V4;
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

// What a kernel or route without UDP GSO answers a GSO send: EIO when the device lacks
// checksum offload, EINVAL or the others on kernels or paths that do not know it.
bool refuses_gso(int err) { return err == EIO || err == EINVAL || err == EOPNOTSUPP || err == ENOPROTOOPT; }

}  // namespace

UdpSocket UdpSocket::bind_any(std::uint16_t port, SocketOptions options) {
  bool dual_stack = true;
  base::Fd fd = open_socket(AF_INET6);
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
  enlarge_buffer(fd.get(), SO_RCVBUFFORCE, SO_RCVBUF, kReceiveBufferBytes);
  enlarge_buffer(fd.get(), SO_SNDBUFFORCE, SO_SNDBUF, kSendBufferBytes);

  sockaddr_storage address;
  const socklen_t length = wildcard_address(dual_stack, port, address);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0)
    throw_listen_error(port, errno);
  UdpSocket socket(std::move(fd), dual_stack);
  if (options.offload) socket.enable_offloads();
  return socket;
}

UdpSocket UdpSocket::bind_to(const base::Endpoint& local, SocketOptions options) {
  if (!local.valid()) throw_listen_error(local.port, EAFNOSUPPORT, "an invalid address");
  const bool v6 = local.family == base::Endpoint::Family::V6;
  std::string address = local.to_string();
  address = address.substr(0, address.rfind(':'));  // "[2001:2::1]" or "198.18.0.1": the port is named apart
  base::Fd fd = open_socket(v6 ? AF_INET6 : AF_INET);
  if (!fd.valid()) throw_listen_error(local.port, errno, address);
  const int v6only = 1;
  if (v6 && ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) != 0)
    throw_listen_error(local.port, errno, address);
  enlarge_buffer(fd.get(), SO_RCVBUFFORCE, SO_RCVBUF, kReceiveBufferBytes);
  enlarge_buffer(fd.get(), SO_SNDBUFFORCE, SO_SNDBUF, kSendBufferBytes);
  sockaddr_storage storage;
  const socklen_t length = sockaddr_from_endpoint(local, false, storage);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&storage), length) != 0)
    throw_listen_error(local.port, errno, address);
  UdpSocket socket(std::move(fd), false);
  if (options.offload) socket.enable_offloads();
  return socket;
}

// UDP_SEGMENT set to 0 changes nothing (each send names its own segment size) but fails
// on a kernel without GSO, which makes it the probe.
void UdpSocket::enable_offloads() {
  const int zero = 0;
  const int one = 1;
  gso_ = ::setsockopt(fd_.get(), SOL_UDP, UDP_SEGMENT, &zero, sizeof zero) == 0;
  gro_ = ::setsockopt(fd_.get(), SOL_UDP, UDP_GRO, &one, sizeof one) == 0;
}

std::uint16_t UdpSocket::local_port() const {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  return endpoint_from_sockaddr(address).port;
}

// MSG_TRUNC makes msg_len the length the kernel had, so a datagram or GRO train cut
// short by a small slot is recognised and dropped rather than presented truncated.
bool UdpSocket::receive(DatagramBatch& batch) {
  const unsigned slots = batch.prepare_receive(gro_);
  int received;
  do {
    received = ::recvmmsg(fd_.get(), batch.headers_.data(), slots, MSG_DONTWAIT | MSG_TRUNC, nullptr);
  } while (received < 0 && errno == EINTR);
  if (received <= 0) return false;
  batch.take_received(static_cast<unsigned>(received));
  return true;
}

// A GSO message the kernel refused goes again one datagram per message, where each gets
// its own verdict: EMSGSIZE (segments above the path MTU, which single datagrams pass as
// fragments) or a bad address fail again or not, and GSO stays on. When an error that
// can mean "no GSO here" (refuses_gso) came and single datagrams go through, it did mean
// that, and GSO stays off for good.
SendResult UdpSocket::send(DatagramBatch& batch) {
  SendResult result;
  const std::size_t total = batch.sendable();
  std::size_t next = 0;
  while (next < total) {
    const Refused refused = send_range(batch, next, total, gso_, result);
    if (refused.first == refused.end) break;
    const std::size_t sent_before = result.sent;
    send_range(batch, refused.first, refused.end, false, result);
    if (refused.gso_error && result.sent > sent_before) gso_ = false;
    next = refused.end;
  }
  result.failed += batch.count() - total;
  return result;
}

// Sends datagrams [first, end); stops early only at a GSO message the kernel refused.
UdpSocket::Refused UdpSocket::send_range(DatagramBatch& batch, std::size_t first, std::size_t end, bool gso,
                                         SendResult& result) {
  const std::size_t messages = batch.prepare_send(first, end, dual_stack_, gso);
  std::size_t m = 0;
  int waits_without_progress = 0;
  while (m < messages) {
    const int sent = ::sendmmsg(fd_.get(), batch.headers_.data() + m, static_cast<unsigned>(messages - m), 0);
    if (sent > 0) {
      result.sent += batch.datagrams_in(m, m + static_cast<std::size_t>(sent));
      result.bytes += batch.bytes_in(m, m + static_cast<std::size_t>(sent));
      m += static_cast<std::size_t>(sent);
      waits_without_progress = 0;
    } else if (errno == EINTR) {
      continue;
    } else if (is_full_buffer(errno)) {
      if (waits_without_progress++ == kMaxWaitsWithoutProgress) break;
      wait_for_buffer_space(fd_.get(), errno);
    } else if (batch.datagrams_in(m, m + 1) > 1) {
      return {batch.message_start(m), batch.message_start(m + 1), refuses_gso(errno)};
    } else {
      // sendmmsg reports an error only when the first message failed (bad address, too
      // large, unreachable); dropping just that one lets the rest of the batch go out.
      ++result.failed;
      ++m;
    }
  }
  result.failed += batch.datagrams_in(m, messages);
  return {end, end, false};
}

bool UdpSocket::send_one(std::span<const std::uint8_t> data, const base::Endpoint& to) {
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
