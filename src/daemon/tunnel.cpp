#include "daemon/tunnel.h"

#include <net/if.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <variant>

#include "base/header_sizes.h"
#include "daemon/log.h"

namespace squtun::daemon {

using protocol::DropReason;

namespace {

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
               protocol::PeerConfig config, std::size_t threads)
    : tun_(std::move(tun)),
      socket_(std::move(socket)),
      peer_(psk, next_psk, std::move(config), counters_, crypto::random_bytes),
      stop_event_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      session_up_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      workers_(threads > 1 ? threads - 1 : 0) {
  if (!stop_event_.valid() || !session_up_.valid()) {
    throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
  }
}

Tunnel::~Tunnel() { stop(); }

void Tunnel::follow_peer_name(std::string host, std::uint16_t port, net::ResolverProcess resolver) {
  peer_name_.with([&](PeerName& name) { name = {std::move(host), port}; });
  resolver_.emplace(std::move(resolver));
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
  build_pipelines();
  outbound_ = std::thread([this] { run_data_path("outbound", &Tunnel::outbound_loop); });
  inbound_ = std::thread([this] { run_data_path("inbound", &Tunnel::inbound_loop); });
  pthread_setname_np(outbound_.native_handle(), "outbound");
  pthread_setname_np(inbound_.native_handle(), "inbound");
}

// Failing closed, but not silently: an exception that would end a thread in std::terminate
// (OpenSSL or its random generator failing, memory exhausted) stops the tunnel instead, and
// the daemon then exits non-zero, its pid file and control socket removed.
void Tunnel::run_data_path(const char* direction, void (Tunnel::*loop)()) {
  try {
    (this->*loop)();
  } catch (...) {
    data_path_failed(direction, std::current_exception());
  }
}

void Tunnel::data_path_failed(const char* direction, std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    log_error(std::string("the ") + direction + " data path failed: " + e.what() + "; stopping");
  }
  halt();
}

void Tunnel::halt() {
  stopping_ = true;
  const std::uint64_t one = 1;
  if (write(stop_event_.get(), &one, sizeof one) < 0 && errno != EAGAIN) {
    log_warning(std::string("cannot wake the data path threads: ") + std::strerror(errno));
  }
}

// The pipelines are stopped and destroyed only here, on the thread that started them: their
// own threads call halt() when they fail, so halt() must not touch them.
void Tunnel::stop() {
  halt();
  if (out_.pipeline) out_.pipeline->stop();
  if (in_.pipeline) in_.pipeline->stop();
  if (outbound_.joinable()) outbound_.join();
  if (inbound_.joinable()) inbound_.join();
  out_.pipeline.reset();
  in_.pipeline.reset();
  log_flush_suppressed(true);  // "suppressed K similar messages" still owed
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
                      .threads = workers_ + 1,
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
