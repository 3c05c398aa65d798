#include "daemon/tunnel.h"

#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <variant>

#include "daemon/log.h"
#include "daemon/staged_packets.h"
#include "daemon/tun_reader.h"
#include "protocol/data_packet.h"

namespace squtun::daemon {

using protocol::DropReason;
using protocol::kDataHeaderSize;
using protocol::kDataOverhead;

namespace {

constexpr int kTickMilliseconds =
    static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(protocol::kTimerGranularity).count());
constexpr std::size_t kMaxControlMessagesPerFlush = 16;

std::string role_name(protocol::Role role) {
  return role == protocol::Role::Initiator ? "initiator" : "responder";
}

}  // namespace

protocol::Now current_time() {
  const auto mono = std::chrono::steady_clock::now().time_since_epoch();
  const auto wall = std::chrono::system_clock::now().time_since_epoch();
  return {std::chrono::duration_cast<protocol::Duration>(mono),
          static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(wall).count())};
}

Tunnel::Tunnel(tun::TunDevice tun, net::UdpSocket socket, const crypto::Key& psk, const crypto::Key* next_psk,
               protocol::PeerConfig config)
    : tun_(std::move(tun)),
      socket_(std::move(socket)),
      peer_(psk, next_psk, std::move(config), counters_, crypto::random_bytes),
      stop_event_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      session_up_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!stop_event_.valid() || !session_up_.valid()) {
    throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
  }
}

Tunnel::~Tunnel() { stop(); }

void Tunnel::follow_peer_name(std::string host, std::uint16_t port, net::ResolverProcess resolver) {
  peer_name_.with([&](PeerName& name) { name = {std::move(host), port}; });
  resolver_.emplace(std::move(resolver));
}

template <typename Call>
void Tunnel::with_peer(Call&& call) {
  const protocol::PeerEvents events = peer_.with([&](protocol::Peer& peer) {
    call(peer);
    return peer.take_events();
  });
  for (const auto& event : events) std::visit([this](const auto& e) { this->on(e); }, event);
}

void Tunnel::clamp_mss() {
  ifreq request{};
  tun_.name().copy(request.ifr_name, IFNAMSIZ - 1);
  if (ioctl(socket_.fd(), SIOCGIFMTU, &request) != 0) return log_warning("MSS not clamped: cannot read the MTU");
  mss_clamp_.emplace(request.ifr_mtu, tun_.mode() == tun::Mode::Tap ? base::kEthernetHeaderSize : 0);
}

void Tunnel::start() {
  with_peer([](protocol::Peer& peer) { peer.start(current_time()); });
  send_control_messages();
  outbound_ = std::thread([this] { run_data_path("outbound", &Tunnel::outbound_loop); });
  inbound_ = std::thread([this] { run_data_path("inbound", &Tunnel::inbound_loop); });
}

// Failing closed, but not silently: an exception that would end a thread in std::terminate
// (OpenSSL or its random generator failing, memory exhausted) stops the tunnel instead, and
// the daemon then exits non-zero, its pid file and control socket removed.
void Tunnel::run_data_path(const char* direction, void (Tunnel::*loop)()) {
  try {
    (this->*loop)();
  } catch (const std::exception& e) {
    log_error(std::string("the ") + direction + " data path failed: " + e.what() + "; stopping");
    halt();
  }
}

void Tunnel::halt() {
  stopping_ = true;
  const std::uint64_t one = 1;
  if (write(stop_event_.get(), &one, sizeof one) < 0 && errno != EAGAIN) {
    log_warning(std::string("cannot wake the data path threads: ") + std::strerror(errno));
  }
}

void Tunnel::stop() {
  halt();
  if (outbound_.joinable()) outbound_.join();
  if (inbound_.joinable()) inbound_.join();
  log_flush_suppressed(true);  // "suppressed K similar messages" still owed
}

// --- TUN -> seal -> UDP ---------------------------------------------------------------

void Tunnel::outbound_loop() {
  net::DatagramBatch batch(kBatchSize, kSlotSize);
  crypto::AeadContext aead;
  StagedPackets staged(counters_);
  TunReader reader(tun_, counters_);
  std::array<pollfd, 3> fds{{{tun_.fd(), POLLIN, 0}, {stop_event_.get(), POLLIN, 0}, {session_up_.get(), POLLIN, 0}}};
  while (!stopping_) {
    if (poll(fds.data(), fds.size(), -1) <= 0 || stopping_) continue;
    if (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {  // deleted: POLLERR for good
      log_error("interface " + tun_.name() + " is gone (deleted?); stopping");
      return halt();
    }
    if (fds[2].revents & POLLIN) {
      std::uint64_t events = 0;
      if (read(session_up_.get(), &events, sizeof events) > 0 && staged.release(batch, current_time().mono) > 0) {
        if (const auto unsent = seal_and_send(batch, aead)) counters_.drop(*unsent, batch.count());
      }
    }
    if ((fds[0].revents & POLLIN) && reader.read_batch(batch) > 0) {
      for (std::size_t i = 0; mss_clamp_ && i < batch.count(); ++i)
        mss_clamp_->apply(batch.slot(i).subspan(kDataHeaderSize, batch.length(i)));
      if (const auto unsent = seal_and_send(batch, aead)) staged.hold(batch, current_time().mono, *unsent);
    }
    send_control_messages();
  }
}

std::optional<DropReason> Tunnel::seal_and_send(net::DatagramBatch& batch, crypto::AeadContext& aead) {
  const std::size_t n = batch.count();
  std::optional<protocol::Peer::SendTicket> ticket;
  DropReason unsent = DropReason::NoSession;
  with_peer([&](protocol::Peer& peer) {
    ticket = peer.reserve_send(n, current_time());
    if (!ticket) unsent = peer.unsendable_reason();
  });
  if (!ticket) return unsent;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t inner = batch.length(i);
    auto slot = batch.slot(i);
    const std::size_t sealed =
        protocol::seal_packet(aead, *ticket->session, ticket->first_counter + i, slot.subspan(kDataHeaderSize, inner), slot);
    if (sealed == 0) {
      counters_.drop(DropReason::UdpSend, n);  // nothing of the batch goes out
      return std::nullopt;
    }
    batch.length(i) = sealed;
    batch.endpoint(i) = ticket->to;
  }
  send_sealed(batch);
  return std::nullopt;
}

void Tunnel::send_sealed(net::DatagramBatch& batch) {
  const net::SendResult result = socket_.send(batch);
  counters_.drop(DropReason::UdpSend, result.failed);
  counters_.add(counters_.tx_packets, result.sent);
  counters_.add(counters_.tx_bytes, result.bytes - result.sent * kDataOverhead);
  if (udp_gso_on_.load(std::memory_order_relaxed) && !socket_.gso_enabled()) {
    udp_gso_on_ = false;
    log_warning("the kernel refused a UDP GSO send; sending datagrams one by one from now on");
  }
}

// --- UDP -> open -> TUN ---------------------------------------------------------------

Tunnel::InboundState::InboundState(Tunnel& tunnel)
    : batch(kBatchSize, net::DatagramBatch::kGroSlotSize),
      tickets(batch.max_count()),
      inner_sizes(batch.max_count()),
      writer(tunnel.tun_, tunnel.counters_, batch.max_count()) {}

void Tunnel::inbound_loop() {
  InboundState state(*this);
  auto next_tick = std::chrono::steady_clock::now();
  while (!stopping_) {
    const auto until_tick = std::chrono::duration_cast<std::chrono::milliseconds>(
        next_tick - std::chrono::steady_clock::now());
    const int timeout = static_cast<int>(std::max<std::int64_t>(0, until_tick.count()));
    // poll ignores a negative fd: without a name to look up there is none.
    const int lookup_fd = resolver_ && !resolver_->gone() ? resolver_->fd() : -1;
    std::array<pollfd, 3> fds{{{socket_.fd(), POLLIN, 0}, {stop_event_.get(), POLLIN, 0}, {lookup_fd, POLLIN, 0}}};
    const int ready = poll(fds.data(), fds.size(), timeout);
    if (stopping_) break;
    if (ready > 0 && (fds[0].revents & POLLIN) != 0 && socket_.receive(state.batch)) open_batch(state);
    if (ready > 0 && fds[2].revents != 0) take_peer_lookup();
    if (std::chrono::steady_clock::now() >= next_tick) {
      with_peer([](protocol::Peer& peer) { peer.tick(current_time()); });
      next_tick = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTickMilliseconds);
      log_flush_suppressed();  // summaries of rate-limited warnings whose minute is over
    }
    if (lookup_wanted_.exchange(false)) request_peer_lookup();
    send_control_messages();
  }
}

void Tunnel::open_batch(InboundState& state) {
  net::DatagramBatch& batch = state.batch;
  auto& tickets = state.tickets;
  const std::size_t n = batch.count();
  counters_.drop(DropReason::Malformed, batch.dropped());
  const protocol::Now now = current_time();
  with_peer([&](protocol::Peer& peer) {
    for (std::size_t i = 0; i < n; ++i) tickets[i] = peer.receive(batch.datagram(i), batch.endpoint(i), now);
  });
  for (std::size_t i = 0; i < n; ++i) {
    if (!tickets[i]) continue;
    auto message = batch.datagram(i);
    const auto inner = protocol::open_packet(state.aead, *tickets[i]->session, message, message.subspan(kDataHeaderSize));
    if (inner) {
      state.inner_sizes[i] = *inner;
    } else {
      tickets[i].reset();
      counters_.drop(DropReason::BadMac);
    }
  }
  with_peer([&](protocol::Peer& peer) {
    for (std::size_t i = 0; i < n; ++i) {
      if (tickets[i] && !peer.commit_data(*tickets[i], batch.endpoint(i), state.inner_sizes[i], now)) tickets[i].reset();
    }
  });
  for (std::size_t i = 0; i < n; ++i) {
    if (tickets[i] && state.inner_sizes[i] > 0) {
      const auto packet = batch.datagram(i).subspan(kDataHeaderSize, state.inner_sizes[i]);
      if (mss_clamp_) mss_clamp_->apply(packet);
      state.writer.add(packet);
    }
  }
  state.writer.flush();
}

// --- -p NAME: the peer's address follows its name ---------------------------------------

void Tunnel::request_peer_lookup() {
  if (!resolver_ || resolver_->gone()) return;
  const PeerName name = peer_name_.with([](const PeerName& n) { return n; });
  if (resolver_->request(name.host, name.port)) log_debug("looking up " + name.host + " again");
}

void Tunnel::reload(const LiveSettings& live) {
  with_peer([&](protocol::Peer& peer) {
    peer.set_keys(live.key, live.next_key ? &*live.next_key : nullptr, current_time());
    peer.set_timers(std::chrono::seconds(live.keepalive_seconds),
                    live.clock_skew_seconds ? std::optional<protocol::Duration>(std::chrono::seconds(*live.clock_skew_seconds))
                                            : std::nullopt);
    if (live.peer) peer.set_fixed_endpoint(*live.peer, current_time());
  });
  if (live.peer) peer_name_.with([&](PeerName& name) { name = {live.peer_host, live.peer_port}; });
}

void Tunnel::take_peer_lookup() {
  const auto result = resolver_->take_result();
  if (!result) return;
  const std::string host = peer_name_.with([](const PeerName& n) { return n.host; });
  if (!result->endpoint) {
    // One line per distinct failure: a dead name would otherwise be logged every 6 s.
    if (result->error != last_lookup_error_) {
      last_lookup_error_ = result->error;
      log_warning("cannot look up the peer again: " + result->error + "; still trying its last address");
    }
    if (resolver_->gone()) {
      log_error("the peer's name " + host + " will not be looked up again until squtun restarts");
    }
    return;
  }
  last_lookup_error_.clear();
  bool moved = false;
  with_peer([&](protocol::Peer& peer) { moved = peer.set_fixed_endpoint(*result->endpoint, current_time()); });
  if (moved) {
    log_info(host + " now resolves to " + result->endpoint->to_string() + "; handshaking there");
  } else {
    log_debug(host + " still resolves to " + result->endpoint->to_string());
  }
}

void Tunnel::send_control_messages() {
  for (std::size_t i = 0; i < kMaxControlMessagesPerFlush; ++i) {
    std::optional<protocol::Outgoing> message;
    with_peer([&](protocol::Peer& peer) { message = peer.pop_outgoing(); });
    if (!message) return;
    if (!socket_.send_one(message->message(), message->to)) {
      counters_.drop(DropReason::UdpSend);
      const int error = errno;
      log_warning_limited("udp-send", [&] { return "cannot send to " + message->to.to_string() + ": " + std::strerror(error); });
    }
  }
}

// --- The Peer's events, acted on outside its lock -----------------------------------------

void Tunnel::on(const protocol::InitiationSent& e) {
  log_debug(std::string(e.retry ? "handshake initiation resent to " : "handshake initiation sent to ") + e.to.to_string());
}

void Tunnel::on(const protocol::HandshakeCompleted& e) {
  log_info("handshake with " + e.peer.to_string() + " completed (" + role_name(e.role) + ")");
  const std::uint64_t one = 1;
  // Can only fail with the counter full, when a wake-up is pending anyway.
  const ssize_t written = write(session_up_.get(), &one, sizeof one);
  static_cast<void>(written);
}

void Tunnel::on(const protocol::ClockSkewRejected& e) {
  // One line a minute at most: a peer with a wrong clock retries every 2 s, and the
  // first line already says all there is to say.
  const std::int64_t now = current_time().mono.count();
  std::int64_t due = next_skew_warning_ns_.load();
  const std::int64_t next = now + protocol::Duration(std::chrono::minutes(1)).count();
  if (now < due || !next_skew_warning_ns_.compare_exchange_strong(due, next)) return;
  const double skew_s = static_cast<double>(e.skew_ns) / 1e9;
  log_warning("handshake from " + e.from.to_string() + " refused: clock skew of " + std::to_string(skew_s) +
              " s exceeds -c (or 10 minutes ahead without it); synchronise the clocks (NTP)");
}

void Tunnel::on(const protocol::PeerAddressChanged& e) { log_info("peer is now at " + e.now_at.to_string()); }

void Tunnel::on(const protocol::HandshakeUnanswered& e) {
  log_debug(std::to_string(e.count) + " handshake initiations to " + e.to.to_string() + " unanswered");
  // The inbound thread, which owns the resolver, does the lookup after its tick.
  if (resolver_) lookup_wanted_ = true;
}

TunnelStatus Tunnel::status() const {
  TunnelStatus status{.interface = tun_.name(),
                      .listen_port = listen_port_,
                      .offload_tun = tun_.offloads().tso,
                      .offload_udp_gso = udp_gso_on_,
                      .offload_udp_gro = socket_.gro_enabled(),
                      .peer = std::nullopt,
                      .session_up = false,
                      .session_key = "none",
                      .key = "none",
                      .next_key = "none",
                      .counters = counters_};
  peer_.with([&status](const protocol::Peer& p) {
    status.peer = p.endpoint();
    status.session_up = p.has_session();
    status.session_key = p.session_key_fingerprint().value_or("none");
    status.key = p.keys().key_fingerprint();
    status.next_key = p.keys().next_key_fingerprint().value_or("none");
  });
  return status;
}

}  // namespace squtun::daemon
