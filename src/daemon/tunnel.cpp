#include "daemon/tunnel.h"

#include <poll.h>
#include <sys/eventfd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <stdexcept>

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

Tunnel::Tunnel(tun::TunDevice tun, net::UdpSocket socket, const crypto::Key& psk, protocol::PeerConfig config)
    : tun_(std::move(tun)),
      socket_(std::move(socket)),
      peer_(psk, std::move(config), counters_, crypto::random_bytes, this),
      stop_event_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      session_up_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!stop_event_.valid() || !session_up_.valid()) {
    throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
  }
}

Tunnel::~Tunnel() { stop(); }

void Tunnel::follow_peer_name(std::string host, net::ResolverProcess resolver) {
  peer_host_ = std::move(host);
  resolver_.emplace(std::move(resolver));
}

void Tunnel::start() {
  {
    const std::lock_guard lock(peer_mutex_);
    peer_.start(current_time());
  }
  send_control_messages();
  outbound_ = std::thread([this] { outbound_loop(); });
  inbound_ = std::thread([this] { inbound_loop(); });
}

void Tunnel::stop() {
  stopping_ = true;
  const std::uint64_t one = 1;
  if (write(stop_event_.get(), &one, sizeof one) < 0 && errno != EAGAIN) {
    log_warning(std::string("cannot wake the data path threads: ") + std::strerror(errno));
  }
  if (outbound_.joinable()) outbound_.join();
  if (inbound_.joinable()) inbound_.join();
  log_flush_suppressed(true);  // "suppressed K similar messages" still owed
}

// --- TUN -> seal -> UDP ---------------------------------------------------------------

void Tunnel::outbound_loop() {
  net::DatagramBatch batch(kBatchSize, kSlotSize);
  crypto::AeadContext aead;
  StagedPackets staged;
  TunReader reader(tun_, counters_);
  std::array<pollfd, 3> fds{{{tun_.fd(), POLLIN, 0}, {stop_event_.get(), POLLIN, 0}, {session_up_.get(), POLLIN, 0}}};
  while (!stopping_) {
    if (poll(fds.data(), fds.size(), -1) <= 0 || stopping_) continue;
    if (fds[2].revents & POLLIN) {
      std::uint64_t events = 0;
      if (read(session_up_.get(), &events, sizeof events) > 0 && staged.release(batch, current_time().mono) > 0) {
        seal_batch(batch, aead);
      }
    }
    if ((fds[0].revents & POLLIN) && reader.read_batch(batch) > 0 && !seal_batch(batch, aead)) {
      staged.hold(batch, current_time().mono);
    }
    send_control_messages();
  }
}

bool Tunnel::seal_batch(net::DatagramBatch& batch, crypto::AeadContext& aead) {
  const std::size_t n = batch.count();
  std::optional<protocol::Peer::SendTicket> ticket;
  {
    const std::lock_guard lock(peer_mutex_);
    ticket = peer_.reserve_send(n, current_time());
  }
  if (!ticket) return false;
  std::uint64_t inner_bytes = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t inner = batch.length(i);
    auto slot = batch.slot(i);
    const std::size_t sealed =
        protocol::seal_packet(aead, *ticket->session, ticket->first_counter + i, slot.subspan(kDataHeaderSize, inner), slot);
    if (sealed == 0) {
      counters_.drop(DropReason::UdpSend, n);
      return true;  // a session was up: nothing to stage
    }
    inner_bytes += inner;
    batch.length(i) = sealed;
    batch.endpoint(i) = ticket->to;
  }
  send_sealed(batch, inner_bytes);
  return true;
}

void Tunnel::send_sealed(net::DatagramBatch& batch, std::uint64_t inner_bytes) {
  const net::SendResult result = socket_.send(batch);
  counters_.drop(DropReason::UdpSend, result.failed);
  counters_.add(counters_.tx_packets, result.sent);
  counters_.add(counters_.tx_bytes, result.failed == 0 ? inner_bytes : 0);
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
      const std::lock_guard lock(peer_mutex_);
      peer_.tick(current_time());
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
  {
    const std::lock_guard lock(peer_mutex_);
    for (std::size_t i = 0; i < n; ++i) tickets[i] = peer_.receive(batch.datagram(i), batch.endpoint(i), now);
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!tickets[i]) continue;
    auto message = batch.datagram(i);
    const auto inner = protocol::open_packet(state.aead, *tickets[i]->session, message, message.subspan(kDataHeaderSize));
    if (inner) {
      state.inner_sizes[i] = *inner;
    } else {
      tickets[i].reset();
      peer_.reject_data();
    }
  }
  {
    const std::lock_guard lock(peer_mutex_);
    for (std::size_t i = 0; i < n; ++i) {
      if (tickets[i] && !peer_.commit_data(*tickets[i], batch.endpoint(i), state.inner_sizes[i], now)) tickets[i].reset();
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (tickets[i] && state.inner_sizes[i] > 0) {
      state.writer.add(batch.datagram(i).subspan(kDataHeaderSize, state.inner_sizes[i]));
    }
  }
  state.writer.flush();
}

// --- -p NAME: the peer's address follows its name ---------------------------------------

void Tunnel::request_peer_lookup() {
  if (!resolver_ || resolver_->gone()) return;
  if (resolver_->request()) log_debug("looking up " + peer_host_ + " again");
}

void Tunnel::take_peer_lookup() {
  const auto result = resolver_->take_result();
  if (!result) return;
  if (!result->endpoint) {
    // One line per distinct failure: a dead name would otherwise be logged every 6 s.
    if (result->error != last_lookup_error_) {
      last_lookup_error_ = result->error;
      log_warning("cannot look up the peer again: " + result->error + "; still trying its last address");
    }
    if (resolver_->gone()) {
      log_error("the peer's name " + peer_host_ + " will not be looked up again until squtun restarts");
    }
    return;
  }
  last_lookup_error_.clear();
  bool moved = false;
  {
    const std::lock_guard lock(peer_mutex_);
    moved = peer_.set_fixed_endpoint(*result->endpoint, current_time());
  }
  if (moved) {
    log_info(peer_host_ + " now resolves to " + result->endpoint->to_string() + "; handshaking there");
  } else {
    log_debug(peer_host_ + " still resolves to " + result->endpoint->to_string());
  }
}

void Tunnel::send_control_messages() {
  for (std::size_t i = 0; i < kMaxControlMessagesPerFlush; ++i) {
    std::optional<protocol::Outgoing> message;
    {
      const std::lock_guard lock(peer_mutex_);
      message = peer_.pop_outgoing();
    }
    if (!message) return;
    if (!socket_.send_one(message->message(), message->to)) {
      counters_.drop(DropReason::UdpSend);
      const int error = errno;
      log_warning_limited("udp-send", [&] { return "cannot send to " + message->to.to_string() + ": " + std::strerror(error); });
    }
  }
}

// --- Reporting ------------------------------------------------------------------------

void Tunnel::initiation_sent(const base::Endpoint& to, bool retry) {
  log_debug(std::string(retry ? "handshake initiation resent to " : "handshake initiation sent to ") + to.to_string());
}

void Tunnel::handshake_completed(const base::Endpoint& peer, protocol::Role role) {
  log_info("handshake with " + peer.to_string() + " completed (" + role_name(role) + ")");
  const std::uint64_t one = 1;
  // Can only fail with the counter full, when a wake-up is pending anyway.
  const ssize_t written = write(session_up_.get(), &one, sizeof one);
  static_cast<void>(written);
}

void Tunnel::clock_skew_rejected(const base::Endpoint& from, std::int64_t skew_ns) {
  // One line a minute at most: a peer with a wrong clock retries every 2 s, and the
  // first line already says all there is to say.
  const protocol::Duration now = current_time().mono;
  if (last_skew_log_ && now - *last_skew_log_ < std::chrono::minutes(1)) return;
  last_skew_log_ = now;
  const double skew_s = static_cast<double>(skew_ns) / 1e9;
  log_warning("handshake from " + from.to_string() + " refused: clock skew of " + std::to_string(skew_s) +
              " s exceeds -c; synchronise the clocks (NTP) or raise -c");
}

void Tunnel::peer_address_changed(const base::Endpoint& now_at) {
  log_info("peer is now at " + now_at.to_string());
}

void Tunnel::handshake_unanswered(const base::Endpoint& to, unsigned unanswered) {
  log_debug(std::to_string(unanswered) + " handshake initiations to " + to.to_string() + " unanswered");
  // Runs under peer_mutex_ on the inbound thread, which does the lookup after the tick.
  if (resolver_) lookup_wanted_ = true;
}

TunnelStatus Tunnel::status() const {
  const std::lock_guard lock(peer_mutex_);
  return {tun_.name(), listen_port_, tun_.offloads().tso, udp_gso_on_, socket_.gro_enabled(), peer_.endpoint(),
          peer_.has_session(), counters_};
}

}  // namespace squtun::daemon
