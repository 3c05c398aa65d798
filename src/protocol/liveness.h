#pragma once

#include <optional>
#include <utility>

#include "protocol/constants.h"
#include "protocol/handshake.h"

namespace squtun::protocol {

// What the timers know of the conversation with the peer: when we last sent, whether data
// either way waits for an answer, and how our handshake attempt goes. Changed only through
// the on_* events, as in WireGuard's timers.c; the Peer asks the questions on every tick.
class Liveness {
 public:
  void on_handshake_initiated(Duration now) { attempt_ = Attempt{now, now, 0}; }
  void on_initiation_sent(Duration now) {
    attempt_->last_sent = now;
    ++attempt_->initiations;
    on_message_sent(now);
  }
  // An initiation got no response within kRekeyTimeout; returns how many did in a row.
  unsigned on_initiation_unanswered() { return ++unanswered_initiations_; }
  void on_handshake_abandoned() { attempt_.reset(); }
  // As initiator the response ends our attempt; as responder an attempt of ours goes on.
  void on_handshake_completed(Role role) {
    unanswered_initiations_ = 0;
    if (role == Role::Initiator) attempt_.reset();
  }
  // The peer's address was set anew: the silence at the old one says nothing of it, and an
  // attempt under way ends.
  void on_peer_moved() {
    unanswered_initiations_ = 0;
    attempt_.reset();
  }
  void on_message_sent(Duration now) { last_sent_ = now; }
  void on_data_sent(Duration now) {
    on_message_sent(now);
    if (!awaiting_reply_since_) awaiting_reply_since_ = now;
  }
  // A response, a keepalive or data authenticated: the peer is alive.
  void on_authenticated_received() { awaiting_reply_since_.reset(); }
  // Only the first inner packet of an unanswered run counts: a steady one-way stream must
  // not keep pushing the passive keepalive back, or the sender's kNewHandshakeTimeout
  // fires although we are alive.
  void on_inner_packet_received(Duration now) {
    if (!unanswered_data_since_ || (last_sent_ && *last_sent_ >= *unanswered_data_since_)) unanswered_data_since_ = now;
  }
  // No reply came to our data: a new handshake starts, and the wait with the next data.
  void on_reply_given_up() { awaiting_reply_since_.reset(); }

  bool handshaking() const { return attempt_.has_value(); }
  bool initiation_retried() const { return attempt_ && attempt_->initiations > 1; }
  // Initiations sent in the attempt under way so far.
  unsigned initiations_sent() const { return attempt_ ? attempt_->initiations : 0; }
  bool initiation_timed_out(Duration now) const { return attempt_ && now - attempt_->last_sent >= kRekeyTimeout; }
  bool attempt_timed_out(Duration now) const { return attempt_ && now - attempt_->started >= kRekeyAttemptTime; }
  bool reply_overdue(Duration now) const {
    return awaiting_reply_since_ && now - *awaiting_reply_since_ >= kNewHandshakeTimeout;
  }
  bool passive_keepalive_due(Duration now) const {
    const bool unanswered = unanswered_data_since_ && (!last_sent_ || *last_sent_ < *unanswered_data_since_);
    return unanswered && now - *unanswered_data_since_ >= kPassiveKeepaliveTimeout;
  }
  bool persistent_keepalive_due(Duration now, Duration interval) const {
    return interval.count() > 0 && (!last_sent_ || now - *last_sent_ >= interval);
  }

 private:
  struct Attempt {
    Duration started{}, last_sent{};  // of the attempt, of its latest initiation
    unsigned initiations = 0;
  };
  std::optional<Attempt> attempt_;
  unsigned unanswered_initiations_ = 0;             // since the peer last completed a handshake
  std::optional<Duration> last_sent_;               // any message to the peer
  std::optional<Duration> awaiting_reply_since_;    // data sent, nothing heard since
  std::optional<Duration> unanswered_data_since_;   // first inner packet since we last sent
};

}  // namespace squtun::protocol
