#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <variant>

#include "base/endpoint.h"
#include "crypto/aead.h"
#include "protocol/constants.h"
#include "protocol/counters.h"
#include "protocol/handshake.h"
#include "protocol/key_ring.h"
#include "protocol/liveness.h"
#include "protocol/messages.h"
#include "protocol/session.h"
#include "protocol/source_budget.h"

namespace squtun::protocol {

// The time as the protocol needs it: a monotonic clock for timers and the wall clock for
// initiation timestamps. Callers pass it in; the protocol never reads a clock.
struct Now {
  Duration mono{};
  std::uint64_t wall_ns = 0;
};

struct PeerConfig {
  std::optional<base::Endpoint> fixed_endpoint;  // -p/-r; without it this end is passive
  Duration persistent_keepalive{0};        // -a; zero means off
  std::optional<Duration> max_clock_skew;  // -c
};

// A control message (handshake or keepalive) the Peer wants sent.
struct Outgoing {
  std::array<std::uint8_t, kInitiationSize> bytes{};
  std::size_t size = 0;
  base::Endpoint to;
  std::span<const std::uint8_t> message() const { return std::span(bytes).first(size); }
};

// What the Peer did beyond its counters, recorded for the daemon to log and act on after
// it released the Peer's lock.
struct InitiationSent { base::Endpoint to; bool retry = false; };
struct HandshakeCompleted { base::Endpoint peer; Role role = Role::Initiator; };
struct ClockSkewRejected { base::Endpoint from; std::int64_t skew_ns = 0; };
struct PeerAddressChanged { base::Endpoint now_at; };
// Initiations to `to` went unanswered `count` times in a row; recorded every
// kUnansweredInitiationsBeforeLookup of them. The peer may have moved: a daemon that knows
// it by host name looks the name up again and calls Peer::set_fixed_endpoint.
struct HandshakeUnanswered { base::Endpoint to; unsigned count = 0; };

using PeerEvent = std::variant<InitiationSent, HandshakeCompleted, ClockSkewRejected, PeerAddressChanged,
                               HandshakeUnanswered>;

// The events of one stretch of calls, in order, in fixed room: recording allocates nothing.
// A stretch records a few events at most, except that a flood repeats two reports (replayed
// initiations with a skewed clock, a peer hopping between addresses): of those the latest
// stands in for the rest. Past kCapacity an event is lost.
class PeerEvents {
 public:
  static constexpr std::size_t kCapacity = 8;

  void record(const PeerEvent& event);
  const PeerEvent* begin() const { return events_.data(); }
  const PeerEvent* end() const { return events_.data() + count_; }

 private:
  std::array<PeerEvent, kCapacity> events_{};
  std::size_t count_ = 0;
};

// The whole protocol state for our one peer: handshakes, sessions, replay windows,
// timers and roaming (docs/PROTOCOL.md). Pure: it takes bytes and time and returns
// decisions, bytes to send and events; it does no I/O and reads no clock. Not thread-safe:
// the daemon serialises calls, does the bulk AEAD work outside its lock with the Session
// a ticket carries, and acts on take_events() once it released the lock.
class Peer {
 public:
  using RandomSource = std::function<void(std::span<std::uint8_t>)>;

  // `next_psk`: a second key accepted while the key changes (--next-key), or nullptr.
  Peer(const crypto::Key& psk, const crypto::Key* next_psk, PeerConfig config, Counters& counters,
       RandomSource random);

  // Begins a handshake if we know where the peer is (-p).
  void start(Now now);

  // --- Receiving ---------------------------------------------------------------------
  // A data message that passed the cheap checks, to be opened with `session`.
  struct ReceiveTicket {
    std::shared_ptr<Session> session;
    std::uint64_t counter = 0;
  };
  // Handles a handshake message completely; for a data message returns the session to
  // open it with. Everything dropped is counted.
  std::optional<ReceiveTicket> receive(std::span<const std::uint8_t> datagram,
                                       const base::Endpoint& from, Now now);
  // Call once the AEAD opened the message: marks the counter seen, confirms a new
  // session, follows a roaming peer and feeds the timers. False if it was a replay.
  bool commit_data(const ReceiveTicket& ticket, const base::Endpoint& from, std::size_t inner_size,
                   Now now);

  // --- Sending -----------------------------------------------------------------------
  struct SendTicket {
    std::shared_ptr<Session> session;
    std::uint64_t first_counter = 0;
    base::Endpoint to;
  };
  // Reserves `packets` consecutive counters on the current session for a batch of inner
  // packets. Without a usable session it starts a handshake and returns nothing: the
  // packets stay the caller's, to hold until a handshake completes or to count as dropped
  // for unsendable_reason().
  std::optional<SendTicket> reserve_send(std::size_t packets, Now now);
  DropReason unsendable_reason() const { return endpoint_ ? DropReason::NoSession : DropReason::NoPeer; }

  // --- Timers ------------------------------------------------------------------------
  // Handshake retries, keepalives, liveness and expiry. Call every kTimerGranularity.
  void tick(Now now);

  // Next control message to send, if any.
  std::optional<Outgoing> pop_outgoing();
  // What happened since the last call, in order.
  PeerEvents take_events() { return std::exchange(events_, {}); }

  // The fixed peer address (-p) changed, e.g. its host name now resolves elsewhere:
  // initiations go there from now on, starting with one at once. The session in use keeps
  // its address, as sender and as destination, until a handshake with the new address
  // completes. False if nothing changed.
  bool set_fixed_endpoint(const base::Endpoint& to, Now now);

  // A reload: handshakes from now on use these keys (KeyRing), and a new one starts at once
  // if they changed; the session in use carries the traffic until it completes.
  void set_keys(const crypto::Key& psk, const crypto::Key* next_psk, Now now);
  void set_timers(Duration persistent_keepalive, std::optional<Duration> max_clock_skew) {
    config_.persistent_keepalive = persistent_keepalive;
    config_.max_clock_skew = max_clock_skew;
  }

  std::optional<base::Endpoint> endpoint() const { return endpoint_; }
  bool has_session() const { return current_ != nullptr; }
  const KeyRing& keys() const { return keys_; }
  // The fingerprint of the key the session in use was made under, if one is up.
  std::optional<std::string> session_key_fingerprint() const;

 private:
  std::optional<ReceiveTicket> handle(const Initiation& m, const base::Endpoint& from, Now now);
  std::optional<ReceiveTicket> handle(const Response& m, const base::Endpoint& from, Now now);
  std::optional<ReceiveTicket> handle(const DataHeader& h, const base::Endpoint& from, Now now);
  // Counts a datagram dropped: there is nothing to open.
  std::nullopt_t drop(DropReason reason) { counters_.drop(reason); return std::nullopt; }
  // Why an authentic initiation is not answered: ours reflected, a replay, a skewed clock.
  std::optional<DropReason> why_not_fresh(const Initiation& m, const base::Endpoint& from, Now now);
  // Refuses later replays of m, and of every older initiation of its sender process.
  void remember_initiation(const Initiation& m);
  bool loses_tie_break(const Initiation& m, const KeyRing::Key& key) const;
  void handshake_completed(const base::Endpoint& with, Role role, Now now);
  void follow(const base::Endpoint& to);

  void initiate(Now now);
  void send_initiation(Now now);
  void retry_or_give_up(Now now);
  void send_keepalive(Now now);
  void queue(std::span<const std::uint8_t> message, const base::Endpoint& to);
  bool wants_rekey(const Session& s, Now now) const;
  void expire_sessions(Now now);
  void run_keepalive_timers(Now now);
  std::uint32_t new_local_index();
  std::shared_ptr<Session> find_session(std::uint32_t local_index);
  template <class F> void for_each_slot(F&& f);

  KeyRing keys_;
  KeyRing::Key initiation_key_;  // what initiation_ was made under
  PeerConfig config_;
  Counters& counters_;
  RandomSource random_;
  // Begins the random of every initiation we send, so one sent back to us is recognised
  // however old it is.
  InstanceTag instance_tag_{};
  crypto::AeadContext control_aead_;
  SourceBudget mac_checks_;
  SourceBudget handshakes_;

  std::optional<base::Endpoint> endpoint_;
  std::shared_ptr<Session> current_;   // sends and receives
  std::shared_ptr<Session> previous_;  // receives stragglers after a rekey
  // Ours as responder until the first data in one confirms it; several, so that an initiation
  // accepted within a round trip of another does not displace the one the initiator uses.
  std::array<std::shared_ptr<Session>, kPendingSessions> next_{};
  Initiation initiation_;              // the one awaiting a response while handshaking
  Liveness liveness_;
  // The newest timestamp accepted from each recent sender process, and the newest of
  // those forgotten to make room: an unknown sender must be newer than that.
  struct SenderMark { InstanceTag tag{}; std::uint64_t timestamp_ns = 0; };
  std::array<SenderMark, kRememberedSenders> senders_{};
  std::uint64_t forgotten_senders_ns_ = 0;
  std::uint64_t last_sent_timestamp_ = 0;
  std::deque<Outgoing> outgoing_;
  PeerEvents events_;
};

}  // namespace squtun::protocol
