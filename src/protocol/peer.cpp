#include "protocol/peer.h"

#include <algorithm>

#include "protocol/data_packet.h"

namespace squtun::protocol {
namespace {

template <class Bytes>
Bytes drawn(const Peer::RandomSource& random) {
  Bytes bytes{};
  random(bytes);
  return bytes;
}

}  // namespace

Peer::Peer(const crypto::Key& psk, const crypto::Key* next_psk, PeerConfig config, Counters& counters,
           RandomSource random)
    : keys_(psk, next_psk),
      config_(std::move(config)),
      counters_(counters),
      random_(std::move(random)),
      instance_tag_(drawn<InstanceTag>(random_)),
      mac_checks_({kMacChecksPerSource, kMacChecksPerSecond, kMacChecksPerSource}, drawn<SipKey>(random_)),
      handshakes_({kHandshakesPerSource, kHandshakesPerSecond, kHandshakesPerSource}, drawn<SipKey>(random_)),
      endpoint_(config_.fixed_endpoint) {}

void Peer::start(Now now) {
  if (endpoint_) initiate(now);
}

// --- Receiving -----------------------------------------------------------------------

std::optional<Peer::ReceiveTicket> Peer::receive(std::span<const std::uint8_t> datagram,
                                                 const base::Endpoint& from, Now now) {
  const auto message = decode(datagram);
  if (!message) return drop(DropReason::Malformed);
  // With -p: the address initiations go to, and the one the session in use runs with.
  if (config_.fixed_endpoint && from != *config_.fixed_endpoint && from != endpoint_) {
    return drop(DropReason::WrongSource);
  }
  return std::visit([&](const auto& m) { return handle(m, from, now); }, *message);
}

std::optional<DropReason> Peer::why_not_fresh(const Initiation& m, const base::Endpoint& from, Now now) {
  if (tag_of(m) == instance_tag_) return DropReason::Reflected;
  // Bounded ahead even without -c: a recording stamped far ahead, accepted once, would
  // otherwise outrank its sender's genuine initiations for as long.
  const auto skew = static_cast<std::int64_t>(m.timestamp_ns - now.wall_ns);
  const auto limit = config_.max_clock_skew.value_or(kMaxTimestampAhead).count();
  if (skew > limit || (config_.max_clock_skew && skew < -limit)) {
    events_.record(ClockSkewRejected{from, skew});
    return DropReason::ClockSkew;
  }
  // A sender process (instance tag) sends increasing timestamps, so however many were recorded
  // only newer ones are fresh; another process (a restart) is not held to them.
  const auto mark = std::ranges::find(senders_, tag_of(m), &SenderMark::tag);
  const auto newest = mark != senders_.end() ? mark->timestamp_ns : forgotten_senders_ns_;
  return m.timestamp_ns > newest ? std::nullopt : std::optional(DropReason::Replay);
}

void Peer::remember_initiation(const Initiation& m) {
  auto mark = std::ranges::find(senders_, tag_of(m), &SenderMark::tag);
  if (mark == senders_.end()) {
    // The oldest makes room: with -c usually one outside the window, which costs nothing.
    mark = std::ranges::min_element(senders_, {}, &SenderMark::timestamp_ns);
    forgotten_senders_ns_ = std::max(forgotten_senders_ns_, mark->timestamp_ns);
    mark->tag = tag_of(m);
  }
  mark->timestamp_ns = m.timestamp_ns;
}

// Both ends initiated at once: the larger random wins, so only one handshake completes
// and the two ends do not keep rekeying in step. Only while our first initiation of the
// attempt may still be answered: once it went unanswered (the peer may be refusing it,
// e.g. after a restart with its clock behind), the peer's initiation is answered.
// An initiation under another key than ours says the peer may lack ours: it is answered.
bool Peer::loses_tie_break(const Initiation& m, const KeyRing::Key& key) const {
  return liveness_.handshaking() && !liveness_.initiation_retried() && key.crypto == initiation_key_.crypto &&
         std::ranges::lexicographical_compare(m.random, initiation_.random);
}

std::optional<Peer::ReceiveTicket> Peer::handle(const Initiation& m, const base::Endpoint& from, Now now) {
  if (!mac_checks_.allow(from, now.mono)) return drop(DropReason::RateLimited);
  const KeyRing::Key* key = keys_.verifying(m);
  if (!key) return drop(DropReason::BadMac);
  if (const auto stale = why_not_fresh(m, from, now)) return drop(*stale);
  // Authentic, so remembered like an answered one even when the tie-break ignores it: a
  // recording of it replayed later is then refused instead of answered.
  if (loses_tie_break(m, *key)) {
    remember_initiation(m);
    return std::nullopt;
  }
  liveness_.on_handshake_abandoned();
  if (!handshakes_.allow(from, now.mono)) return drop(DropReason::RateLimited);
  remember_initiation(m);
  const Random random = drawn<Random>(random_);
  const Response response = key->crypto->make_response(new_local_index(), random, m);
  // Held aside until data proves the initiator completed it, in place of the oldest held:
  // a replayed initiation then cannot displace the session in use, nor one just answered.
  auto& slot = *std::ranges::min_element(next_, {}, [](const auto& s) { return s ? s->created : Duration::min(); });
  slot = std::make_shared<Session>(response.sender_index, m.sender_index,
                                   key->crypto->derive_session_keys(m.random, random, Role::Responder),
                                   Role::Responder, now.mono, key->fingerprint);
  queue(encode(response), from);
  counters_.add(counters_.responses_sent);
  liveness_.on_message_sent(now.mono);
  return std::nullopt;
}

std::optional<Peer::ReceiveTicket> Peer::handle(const Response& m, const base::Endpoint& from, Now now) {
  if (!liveness_.handshaking() || m.receiver_index != initiation_.sender_index) return drop(DropReason::UnknownSession);
  if (!mac_checks_.allow(from, now.mono)) return drop(DropReason::RateLimited);
  if (!initiation_key_.crypto->verify(m, initiation_)) return drop(DropReason::BadMac);
  previous_ = std::move(current_);
  current_ = std::make_shared<Session>(
      m.receiver_index, m.sender_index,
      initiation_key_.crypto->derive_session_keys(initiation_.random, m.random, Role::Initiator),
      Role::Initiator, now.mono, initiation_key_.fingerprint);
  liveness_.on_authenticated_received();
  // The response answered our fresh random, so its source is authentic and current.
  follow(from);
  handshake_completed(from, Role::Initiator, now);
  // Confirms the session to the responder at once, even if we have nothing to send.
  send_keepalive(now);
  return std::nullopt;
}

std::optional<Peer::ReceiveTicket> Peer::handle(const DataHeader& h, const base::Endpoint&, Now now) {
  auto session = find_session(h.receiver_index);
  if (!session) return drop(DropReason::UnknownSession);
  if (session->expired(now.mono)) return drop(DropReason::Expired);
  if (!session->replay_.check(h.counter)) return drop(DropReason::Replay);
  return ReceiveTicket{std::move(session), h.counter};
}

bool Peer::commit_data(const ReceiveTicket& ticket, const base::Endpoint& from,
                       std::size_t inner_size, Now now) {
  // Only the newest data moves the peer: a packet lost on the way and injected later from
  // elsewhere is delivered, but does not take the session with it.
  const bool newest = ticket.session->replay_.advanced_by(ticket.counter);
  if (!ticket.session->replay_.accept(ticket.counter)) {
    counters_.drop(DropReason::Replay);
    return false;
  }
  const bool confirms = std::ranges::find(next_, ticket.session) != next_.end();
  if (confirms) {
    previous_ = std::move(current_);
    current_ = ticket.session;
    next_ = {};
    handshake_completed(from, Role::Responder, now);
  }
  if (newest && (!config_.fixed_endpoint || confirms)) follow(from);
  liveness_.on_authenticated_received();
  if (inner_size == 0) {
    counters_.add(counters_.keepalives_received);
  } else {
    liveness_.on_inner_packet_received(now.mono);
    counters_.add(counters_.rx_packets);
    counters_.add(counters_.rx_bytes, inner_size);
  }
  return true;
}

void Peer::handshake_completed(const base::Endpoint& with, Role role, Now now) {
  mac_checks_.trust(with);
  handshakes_.trust(with);
  liveness_.on_handshake_completed(role);
  counters_.add(counters_.handshakes_completed);
  counters_.last_handshake_unix_ns.store(now.wall_ns, std::memory_order_relaxed);
  events_.record(HandshakeCompleted{with, role});
}

void Peer::follow(const base::Endpoint& to) {
  if (endpoint_ == to) return;
  endpoint_ = to;
  events_.record(PeerAddressChanged{to});
}

// --- Sending -------------------------------------------------------------------------

std::optional<Peer::SendTicket> Peer::reserve_send(std::size_t packets, Now now) {
  if (!endpoint_) return std::nullopt;
  Session* s = current_.get();
  if (!s || s->expired(now.mono) || s->next_send_counter_ + packets >= kRejectAfterMessages) {
    initiate(now);
    return std::nullopt;
  }
  if (wants_rekey(*s, now)) initiate(now);
  SendTicket ticket{current_, s->next_send_counter_, *endpoint_};
  s->next_send_counter_ += packets;
  liveness_.on_data_sent(now.mono);
  return ticket;
}

bool Peer::wants_rekey(const Session& s, Now now) const {
  const Duration after = s.role == Role::Initiator ? kRekeyAfterTime : kResponderRekeyAfterTime;
  return now.mono - s.created >= after || s.next_send_counter_ >= kRekeyAfterMessages;
}

void Peer::initiate(Now now) {
  if (liveness_.handshaking() || !endpoint_) return;
  liveness_.on_handshake_initiated(now.mono);
  send_initiation(now);
}

void Peer::send_initiation(Now now) {
  // Strictly increasing even if the wall clock steps back: they stand still until it catches
  // up, so they never leave a -c window they were inside.
  last_sent_timestamp_ = std::max(now.wall_ns, last_sent_timestamp_ + 1);
  Random random = drawn<Random>(random_);
  std::copy(instance_tag_.begin(), instance_tag_.end(), random.begin());
  initiation_key_ = keys_.for_initiation(liveness_.initiations_sent());
  initiation_ = initiation_key_.crypto->make_initiation(new_local_index(), random, last_sent_timestamp_);
  const base::Endpoint to = config_.fixed_endpoint.value_or(*endpoint_);
  queue(encode(initiation_), to);
  liveness_.on_initiation_sent(now.mono);
  events_.record(InitiationSent{to, liveness_.initiation_retried()});
  counters_.add(counters_.initiations_sent);
}

bool Peer::set_fixed_endpoint(const base::Endpoint& to, Now now) {
  if (config_.fixed_endpoint == to) return false;
  config_.fixed_endpoint = to;
  liveness_.on_peer_moved();
  initiate(now);
  return true;
}

void Peer::set_keys(const crypto::Key& psk, const crypto::Key* next_psk, Now now) {
  if (keys_.replace(psk, next_psk) && endpoint_) initiate(now);
}

std::optional<std::string> Peer::session_key_fingerprint() const {
  if (!current_) return std::nullopt;
  return current_->key_fingerprint;
}

void Peer::send_keepalive(Now now) {
  if (!current_ || !endpoint_ || current_->expired(now.mono)) return;
  Outgoing out;
  out.size = seal_packet(control_aead_, *current_, current_->next_send_counter_++, {}, out.bytes);
  if (out.size == 0) return;
  out.to = *endpoint_;
  outgoing_.push_back(out);
  counters_.add(counters_.keepalives_sent);
  liveness_.on_message_sent(now.mono);
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
  if (liveness_.initiation_timed_out(now.mono)) retry_or_give_up(now);
  if (liveness_.reply_overdue(now.mono)) {
    liveness_.on_reply_given_up();
    initiate(now);
  }
  run_keepalive_timers(now);
}

void Peer::retry_or_give_up(Now now) {
  const unsigned unanswered = liveness_.on_initiation_unanswered();
  if (unanswered % kUnansweredInitiationsBeforeLookup == 0) {
    events_.record(HandshakeUnanswered{*endpoint_, unanswered});
  }
  if (liveness_.attempt_timed_out(now.mono)) {
    liveness_.on_handshake_abandoned();
  } else {
    send_initiation(now);
  }
}

void Peer::run_keepalive_timers(Now now) {
  const bool passive_due = liveness_.passive_keepalive_due(now.mono);
  const bool persistent_due = liveness_.persistent_keepalive_due(now.mono, config_.persistent_keepalive);
  if (!passive_due && !persistent_due) return;
  if (current_ && !current_->expired(now.mono)) {
    if (wants_rekey(*current_, now)) initiate(now);
    send_keepalive(now);
  } else if (persistent_due) {
    initiate(now);
  }
}

void Peer::expire_sessions(Now now) {
  for_each_slot([&](std::shared_ptr<Session>& s) {
    if (s && s->expired(now.mono)) s.reset();
  });
}

// --- Helpers -------------------------------------------------------------------------

void PeerEvents::record(const PeerEvent& event) {
  const bool floods = std::holds_alternative<ClockSkewRejected>(event) || std::holds_alternative<PeerAddressChanged>(event);
  const auto last = events_.begin() + static_cast<std::ptrdiff_t>(count_);
  const auto same = std::find_if(events_.begin(), last, [&](const PeerEvent& e) { return e.index() == event.index(); });
  if (floods && same != last) {
    *same = event;
  } else if (count_ < kCapacity) {
    events_[count_++] = event;
  }
}

template <class F>
void Peer::for_each_slot(F&& f) {
  f(current_);
  f(previous_);
  for (auto& s : next_) f(s);
}

std::shared_ptr<Session> Peer::find_session(std::uint32_t local_index) {
  std::shared_ptr<Session> found;
  for_each_slot([&](const std::shared_ptr<Session>& s) {
    if (s && s->local_index == local_index) found = s;
  });
  return found;
}

std::uint32_t Peer::new_local_index() {
  std::uint32_t index = 0;
  random_(std::span(reinterpret_cast<std::uint8_t*>(&index), sizeof index));
  // At most 3 + kPendingSessions indices are in use, so this probes at most one more.
  auto in_use = [this](std::uint32_t i) {
    return i == 0 || (liveness_.handshaking() && initiation_.sender_index == i) || find_session(i) != nullptr;
  };
  while (in_use(index)) ++index;
  return index;
}

}  // namespace squtun::protocol
