#include "protocol/peer.h"

#include <algorithm>

#include "protocol/data_packet.h"
#include "protocol/messages.h"

namespace squtun::protocol {
namespace {

bool older_than(const std::optional<Duration>& then, Duration now, Duration age) {
  return then && now - *then >= age;
}

}  // namespace

Peer::Peer(const crypto::Key& psk, PeerConfig config, Counters& counters, RandomSource random,
           PeerObserver* observer)
    : crypto_(psk),
      config_(std::move(config)),
      counters_(counters),
      random_(std::move(random)),
      observer_(observer),
      mac_checks_(kMacChecksPerSecond, kMacChecksPerSecond),
      handshakes_(kHandshakesPerSecond, kHandshakesPerSecond),
      endpoint_(config_.fixed_endpoint) {
  random_(instance_tag_);
}

void Peer::start(Now now) {
  if (endpoint_) initiate(now);
}

// --- Receiving -----------------------------------------------------------------------

std::optional<Peer::ReceiveTicket> Peer::receive(std::span<const std::uint8_t> datagram,
                                                 const base::Endpoint& from, Now now) {
  const auto type = classify(datagram);
  if (!type) {
    counters_.drop(DropReason::Malformed);
    return std::nullopt;
  }
  if (!source_allowed(from)) return std::nullopt;
  switch (*type) {
    case MessageType::Initiation:
      handle_initiation(datagram, from, now);
      return std::nullopt;
    case MessageType::Response:
      handle_response(datagram, from, now);
      return std::nullopt;
    case MessageType::Data:
      return check_data(datagram, now);
  }
  return std::nullopt;
}

bool Peer::source_allowed(const base::Endpoint& from) {
  if (!config_.fixed_endpoint || from == *config_.fixed_endpoint) return true;
  counters_.drop(DropReason::WrongSource);
  return false;
}

bool Peer::initiation_is_fresh(const Initiation& m, const base::Endpoint& from, Now now) {
  if (is_own_initiation(m)) {
    counters_.drop(DropReason::Reflected);
    return false;
  }
  if (!config_.max_clock_skew) {
    if (last_initiation_timestamp_ && m.timestamp_ns <= *last_initiation_timestamp_) {
      counters_.drop(DropReason::Replay);
      return false;
    }
    return true;
  }
  const auto skew = static_cast<std::int64_t>(m.timestamp_ns - now.wall_ns);
  const auto limit = config_.max_clock_skew->count();
  if (skew > limit || skew < -limit) {
    counters_.drop(DropReason::ClockSkew);
    if (observer_) observer_->clock_skew_rejected(from, skew);
    return false;
  }
  // With synchronised clocks (-c) the window bounds how old a replay can be, and inside
  // it we remember what we accepted; so a peer whose clock stepped back (NTP) and that
  // restarted is still accepted, which a strictly increasing timestamp would refuse.
  if (std::find(recent_initiations_.begin(), recent_initiations_.end(), m.random) != recent_initiations_.end()) {
    counters_.drop(DropReason::Replay);
    return false;
  }
  return true;
}

void Peer::remember_initiation(const Initiation& m) {
  last_initiation_timestamp_ = m.timestamp_ns;
  recent_initiations_[recent_initiation_slot_] = m.random;
  recent_initiation_slot_ = (recent_initiation_slot_ + 1) % recent_initiations_.size();
}

void Peer::handle_initiation(std::span<const std::uint8_t> datagram, const base::Endpoint& from,
                             Now now) {
  if (!mac_checks_.allow(now.mono)) {
    counters_.drop(DropReason::RateLimited);
    return;
  }
  const Initiation m = *decode_initiation(datagram);
  if (!crypto_.verify(m)) {
    counters_.drop(DropReason::BadMac);
    return;
  }
  if (!initiation_is_fresh(m, from, now)) return;
  // Both ends initiated at once: the larger random wins, so only one handshake completes
  // and the two ends do not keep rekeying in step. Only while our first initiation of the
  // attempt may still be answered: once it went unanswered (the peer may be refusing it,
  // e.g. after a restart with its clock behind), the peer's initiation is answered.
  if (pending_) {
    const bool first_try = pending_->last_sent == pending_->started;
    if (first_try && std::ranges::lexicographical_compare(m.random, pending_->sent.random)) {
      // Authentic, so remembered like an answered one: a recording of it replayed later
      // is then refused instead of answered.
      remember_initiation(m);
      return;
    }
    pending_.reset();
  }
  if (!handshakes_.allow(now.mono)) {
    counters_.drop(DropReason::RateLimited);
    return;
  }
  remember_initiation(m);
  const Random random = new_random();
  const Response response = crypto_.make_response(new_local_index(), random, m);
  // Held aside until data proves the initiator completed it: a replayed initiation
  // then cannot displace the session in use.
  next_ = std::make_shared<Session>(response.sender_index, m.sender_index,
                                    crypto_.derive_session_keys(m.random, random, Role::Responder),
                                    Role::Responder, now.mono);
  queue(encode(response), from);
  counters_.add(counters_.responses_sent);
  last_sent_ = now.mono;
}

void Peer::handle_response(std::span<const std::uint8_t> datagram, const base::Endpoint& from,
                           Now now) {
  const Response m = *decode_response(datagram);
  if (!pending_ || m.receiver_index != pending_->sent.sender_index) {
    counters_.drop(DropReason::UnknownSession);
    return;
  }
  if (!mac_checks_.allow(now.mono)) {
    counters_.drop(DropReason::RateLimited);
    return;
  }
  if (!crypto_.verify(m, pending_->sent)) {
    counters_.drop(DropReason::BadMac);
    return;
  }
  previous_ = std::move(current_);
  current_ = std::make_shared<Session>(
      m.receiver_index, m.sender_index,
      crypto_.derive_session_keys(pending_->sent.random, m.random, Role::Initiator), Role::Initiator,
      now.mono);
  pending_.reset();
  awaiting_reply_since_.reset();
  unanswered_initiations_ = 0;
  // The response answered our fresh random, so its source is authentic and current.
  if (endpoint_ != from) {
    endpoint_ = from;
    if (observer_) observer_->peer_address_changed(from);
  }
  counters_.add(counters_.handshakes_completed);
  counters_.last_handshake_unix_ns.store(now.wall_ns, std::memory_order_relaxed);
  if (observer_) observer_->handshake_completed(from, Role::Initiator);
  // Confirms the session to the responder at once, even if we have nothing to send.
  send_keepalive(now);
}

std::optional<Peer::ReceiveTicket> Peer::check_data(std::span<const std::uint8_t> datagram, Now now) {
  const DataHeader header = *decode_data_header(datagram);
  auto session = find_session(header.receiver_index);
  if (!session) {
    counters_.drop(DropReason::UnknownSession);
    return std::nullopt;
  }
  if (session->expired(now.mono)) {
    counters_.drop(DropReason::Expired);
    return std::nullopt;
  }
  if (!session->replay.check(header.counter)) {
    counters_.drop(DropReason::Replay);
    return std::nullopt;
  }
  return ReceiveTicket{std::move(session), header.counter};
}

bool Peer::commit_data(const ReceiveTicket& ticket, const base::Endpoint& from,
                       std::size_t inner_size, Now now) {
  if (!ticket.session->replay.accept(ticket.counter)) {
    counters_.drop(DropReason::Replay);
    return false;
  }
  if (ticket.session == next_) {
    previous_ = std::move(current_);
    current_ = std::move(next_);
    unanswered_initiations_ = 0;
    counters_.add(counters_.handshakes_completed);
    counters_.last_handshake_unix_ns.store(now.wall_ns, std::memory_order_relaxed);
    if (observer_) observer_->handshake_completed(from, Role::Responder);
  }
  if (!config_.fixed_endpoint && endpoint_ != from) {
    endpoint_ = from;
    if (observer_) observer_->peer_address_changed(from);
  }
  awaiting_reply_since_.reset();
  if (inner_size == 0) {
    counters_.add(counters_.keepalives_received);
  } else {
    // Only the first packet of an unanswered run counts: a steady one-way stream must
    // not keep pushing the passive keepalive back, or the sender's kNewHandshakeTimeout
    // fires although we are alive.
    if (!unanswered_data_since_ || (last_sent_ && *last_sent_ >= *unanswered_data_since_)) {
      unanswered_data_since_ = now.mono;
    }
    counters_.add(counters_.rx_packets);
    counters_.add(counters_.rx_bytes, inner_size);
  }
  return true;
}

// --- Sending -------------------------------------------------------------------------

std::optional<Peer::SendTicket> Peer::reserve_send(std::size_t packets, Now now) {
  if (!endpoint_) {
    counters_.drop(DropReason::NoPeer, packets);
    return std::nullopt;
  }
  Session* s = current_.get();
  if (!s || s->expired(now.mono) || s->next_send_counter + packets >= kRejectAfterMessages) {
    counters_.drop(DropReason::NoSession, packets);
    initiate(now);
    return std::nullopt;
  }
  if (wants_rekey(*s, now)) initiate(now);
  SendTicket ticket{current_, s->next_send_counter, *endpoint_};
  s->next_send_counter += packets;
  last_sent_ = now.mono;
  if (!awaiting_reply_since_) awaiting_reply_since_ = now.mono;
  return ticket;
}

bool Peer::wants_rekey(const Session& s, Now now) const {
  const Duration after = s.role == Role::Initiator ? kRekeyAfterTime : kResponderRekeyAfterTime;
  return now.mono - s.created >= after || s.next_send_counter >= kRekeyAfterMessages;
}

void Peer::initiate(Now now) {
  if (pending_ || !endpoint_) return;
  pending_ = PendingHandshake{{}, now.mono, now.mono};
  send_initiation(now);
}

void Peer::send_initiation(Now now) {
  // Strictly increasing even if the wall clock stands still or steps back a little.
  // Without -c the responder wants strictly increasing timestamps, even if the wall clock
  // stands still or steps back; with -c it wants the truth, which NTP just corrected.
  last_sent_timestamp_ =
      config_.max_clock_skew ? now.wall_ns : std::max(now.wall_ns, last_sent_timestamp_ + 1);
  Random random = new_random();
  std::copy(instance_tag_.begin(), instance_tag_.end(), random.begin());
  pending_->sent = crypto_.make_initiation(new_local_index(), random, last_sent_timestamp_);
  const bool retry = pending_->last_sent != pending_->started;
  pending_->last_sent = now.mono;
  queue(encode(pending_->sent), *endpoint_);
  if (observer_) observer_->initiation_sent(*endpoint_, retry);
  counters_.add(counters_.initiations_sent);
  last_sent_ = now.mono;
}

void Peer::note_unanswered_initiation() {
  ++unanswered_initiations_;
  if (observer_ && unanswered_initiations_ % kUnansweredInitiationsBeforeLookup == 0) {
    observer_->handshake_unanswered(*endpoint_, unanswered_initiations_);
  }
}

bool Peer::set_fixed_endpoint(const base::Endpoint& to, Now now) {
  if (config_.fixed_endpoint == to && endpoint_ == to) return false;
  config_.fixed_endpoint = to;
  endpoint_ = to;
  unanswered_initiations_ = 0;
  if (observer_) observer_->peer_address_changed(to);
  if (pending_) {
    pending_.reset();
    initiate(now);
  }
  return true;
}

void Peer::send_keepalive(Now now) {
  if (!current_ || !endpoint_ || current_->expired(now.mono)) return;
  Outgoing out;
  out.size = seal_packet(control_aead_, *current_, current_->next_send_counter++, {}, out.bytes);
  if (out.size == 0) return;
  out.to = *endpoint_;
  outgoing_.push_back(out);
  counters_.add(counters_.keepalives_sent);
  last_sent_ = now.mono;
}

void Peer::queue(std::span<const std::uint8_t> message, const base::Endpoint& to) {
  Outgoing out;
  std::copy(message.begin(), message.end(), out.bytes.begin());
  out.size = message.size();
  out.to = to;
  outgoing_.push_back(out);
}

std::optional<Outgoing> Peer::pop_outgoing() {
  if (outgoing_.empty()) return std::nullopt;
  Outgoing out = outgoing_.front();
  outgoing_.pop_front();
  return out;
}

// --- Timers --------------------------------------------------------------------------

void Peer::tick(Now now) {
  expire_sessions(now);
  if (pending_ && now.mono - pending_->last_sent >= kRekeyTimeout) {
    note_unanswered_initiation();
    if (now.mono - pending_->started >= kRekeyAttemptTime) {
      pending_.reset();
    } else {
      send_initiation(now);
    }
  }
  if (older_than(awaiting_reply_since_, now.mono, kNewHandshakeTimeout)) {
    awaiting_reply_since_.reset();
    initiate(now);
  }
  run_keepalive_timers(now);
}

void Peer::run_keepalive_timers(Now now) {
  const bool unanswered_data =
      unanswered_data_since_ && (!last_sent_ || *last_sent_ < *unanswered_data_since_);
  const bool passive_due = unanswered_data && older_than(unanswered_data_since_, now.mono,
                                                         kPassiveKeepaliveTimeout);
  const bool persistent_due = config_.persistent_keepalive.count() > 0 &&
                              (!last_sent_ || now.mono - *last_sent_ >= config_.persistent_keepalive);
  if (!passive_due && !persistent_due) return;
  if (current_ && !current_->expired(now.mono)) {
    if (wants_rekey(*current_, now)) initiate(now);
    send_keepalive(now);
  } else if (persistent_due) {
    initiate(now);
  }
}

void Peer::expire_sessions(Now now) {
  for (auto* slot : {&current_, &previous_, &next_}) {
    if (*slot && (*slot)->expired(now.mono)) slot->reset();
  }
}

// --- Helpers -------------------------------------------------------------------------

std::shared_ptr<Session> Peer::find_session(std::uint32_t local_index) const {
  for (const auto* slot : {&current_, &previous_, &next_}) {
    if (*slot && (*slot)->local_index == local_index) return *slot;
  }
  return nullptr;
}

std::uint32_t Peer::new_local_index() const {
  std::uint32_t index = 0;
  random_(std::span(reinterpret_cast<std::uint8_t*>(&index), sizeof index));
  // At most four indices are in use, so this probes at most five candidates.
  auto in_use = [this](std::uint32_t i) {
    return i == 0 || (pending_ && pending_->sent.sender_index == i) || find_session(i) != nullptr;
  };
  while (in_use(index)) ++index;
  return index;
}

Random Peer::new_random() const {
  Random r{};
  random_(r);
  return r;
}

bool Peer::is_own_initiation(const Initiation& m) const {
  return std::equal(instance_tag_.begin(), instance_tag_.end(), m.random.begin());
}

}  // namespace squtun::protocol
