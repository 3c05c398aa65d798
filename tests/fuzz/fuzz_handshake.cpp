// Handshake processing: an active Peer A (-p) and a passive Peer B talk over a wire the
// input controls. Each input byte picks an operation: let time pass, deliver, lose, replay
// or corrupt a message, inject raw bytes, send data, from whichever source address.
//
// Invariants checked after every delivery:
//  - a message that was dropped for any reason (a drop counter moved) gets no answer;
//  - a message no honest end ever sent (forged, corrupted) gets no answer, commits
//    nothing, and changes neither the session state nor the peer's address;
//  - an initiation is answered at most once; a data message commits at most once, even
//    when two copies pass receive() before either is committed;
//  - an end's own initiations, data and responses reflected back to it get no answer;
//  - A only ever sends to its fixed address; B answers where the message came from or
//    sends to the address it learned; the passive end's address moves only on a message
//    that authenticated (data committed or a handshake completed);
//  - no (session, counter) pair is ever handed out twice for sealing;
//  - the events agree with the counters and the state: every initiation sent and every
//    handshake completed is reported, and a reported address change names the address
//    the peer is at now (A's, fixed, never changes).

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <utility>
#include <variant>

#include "fuzz_support.h"

namespace {

using namespace squtun;
using namespace squtun::fuzz;
using base::Endpoint;
using protocol::Duration;
using protocol::MessageType;
using protocol::Now;

struct End {
  End(protocol::PeerConfig config, std::uint64_t seed, Endpoint address, int end_id)
      : node(std::move(config), seed), addr(address), id(end_id) {}
  Node node;
  Endpoint addr;
  int id;
  std::int64_t wall_offset_ns = 0;
  std::deque<protocol::Outgoing> outbox;  // sent, not yet delivered
  std::set<Bytes> answered_initiations;
  std::set<Bytes> committed;
  std::uint64_t initiations_reported = 0;
  std::uint64_t completions_reported = 0;
};

class Harness {
 public:
  explicit Harness(Reader& in) : in_(in) {
    const std::uint8_t cfg = in_.u8();
    protocol::PeerConfig a_config{kAddrB, {}, {}};
    if (cfg & 0x08) a_config.persistent_keepalive = 5s;
    protocol::PeerConfig b_config{};
    if (cfg & 0x01) b_config.max_clock_skew = 30s;
    if (cfg & 0x10) b_config.persistent_keepalive = 7s;
    a_ = std::make_unique<End>(a_config, 1, kAddrA, 0);
    b_ = std::make_unique<End>(b_config, 2, kAddrB, 1);
    static constexpr std::int64_t kOffsets[4] = {0, 20'000'000'000, -45'000'000'000,
                                                 3'000'000'000'000'000'000};
    a_->wall_offset_ns = kOffsets[(cfg >> 1) & 3];
  }

  void run() {
    for (int step = 0; step < 512 && !in_.done(); ++step) {
      const std::uint8_t op = in_.u8();
      switch (op % 11) {
        case 0: advance(std::chrono::milliseconds(20) * (1 + in_.u8())); break;
        case 1: a_->node.peer->start(now(*a_)); collect(*a_); break;
        case 2: forward(*a_, *b_); break;
        case 3: forward(*b_, *a_); break;
        case 4: replay(false); break;
        case 5: replay(true); break;
        case 6: inject(); break;
        case 7: send_data(end(in_.u8())); break;
        case 8: lose(end(in_.u8())); break;
        case 9: advance(protocol::kRekeyTimeout * (1 + (in_.u8() & 63))); break;
        default: race(); break;
      }
    }
  }

 private:
  Now now(const End& e) const {
    return Now{mono_, wall_base_ + static_cast<std::uint64_t>(mono_.count() + e.wall_offset_ns)};
  }
  End& end(std::uint8_t pick) { return (pick & 1) ? *b_ : *a_; }
  Endpoint source(std::uint8_t pick, const End& sender) const {
    switch (pick % 5) {
      case 0: return kElsewhere;
      case 1: return sender.id == 0 ? kAddrB : kAddrA;  // the receiver's own peer address, spoofed
      default: return sender.addr;
    }
  }

  // Moves what `e` queued to its outbox, checking where it goes.
  std::size_t collect(End& e, const Endpoint* answering = nullptr) {
    check_events(e);
    std::size_t n = 0;
    while (auto o = e.node.peer->pop_outgoing()) {
      const auto type = protocol::classify(o->message());
      require(type.has_value());
      if (e.id == 0) {
        require(o->to == kAddrB);
      } else {
        const bool to_learned = e.node.peer->endpoint() == o->to;
        const bool to_asker = answering && *answering == o->to && type == MessageType::Response;
        require(to_learned || to_asker);
      }
      const Bytes bytes(o->message().begin(), o->message().end());
      genuine_.emplace(bytes, e.id);
      pool_.push_back(bytes);
      if (pool_.size() > 64) pool_.pop_front();
      e.outbox.push_back(*o);
      ++n;
    }
    return n;
  }

  void check_events(End& e) {
    for (const auto& event : e.node.peer->take_events()) {
      if (std::holds_alternative<protocol::InitiationSent>(event)) ++e.initiations_reported;
      if (std::holds_alternative<protocol::HandshakeCompleted>(event)) ++e.completions_reported;
      if (const auto* moved = std::get_if<protocol::PeerAddressChanged>(&event)) {
        require(e.id == 1 && e.node.peer->endpoint() == moved->now_at);
      }
    }
    require(e.initiations_reported == e.node.counters.initiations_sent.load());
    require(e.completions_reported == e.node.counters.handshakes_completed.load());
  }

  void advance(Duration d) {
    mono_ += d;
    a_->node.peer->tick(now(*a_));
    b_->node.peer->tick(now(*b_));
    collect(*a_);
    collect(*b_);
  }

  void forward(End& from, End& to) {
    const std::uint8_t pick = in_.u8();
    if (from.outbox.empty()) return;
    const protocol::Outgoing o = from.outbox.front();
    from.outbox.pop_front();
    if (o.to != to.addr) return;  // sent where nobody listens
    deliver_checked(to, Bytes(o.message().begin(), o.message().end()), source(pick, from));
  }

  void lose(End& e) {
    if (!e.outbox.empty()) e.outbox.pop_front();
  }

  // A message seen on the wire, again, possibly with one byte changed.
  void replay(bool corrupt) {
    const std::uint8_t which = in_.u8();
    const std::uint8_t to_pick = in_.u8();
    const std::uint8_t from_pick = in_.u8();
    if (pool_.empty()) return;
    Bytes bytes = pool_[which % pool_.size()];
    if (corrupt) {
      const std::uint16_t pos = in_.u16();
      bytes[pos % bytes.size()] ^= static_cast<std::uint8_t>(in_.u8() | 1);
    }
    End& to = end(to_pick);
    deliver_checked(to, bytes, source(from_pick, other(to)));
  }

  // Two copies of a data message both pass receive() before either is committed, as
  // with two receive threads: only one may commit.
  void race() {
    const std::uint8_t which = in_.u8();
    End& to = end(in_.u8());
    const Endpoint first = source(in_.u8(), other(to));
    const Endpoint second = source(in_.u8(), other(to));
    if (pool_.empty()) return;
    const Bytes bytes = pool_[which % pool_.size()];
    if (protocol::classify(bytes) != MessageType::Data) return;
    protocol::Peer& peer = *to.node.peer;
    const auto endpoint = peer.endpoint();
    const Now n = now(to);
    const auto t1 = peer.receive(bytes, first, n);
    const auto t2 = peer.receive(bytes, second, n);
    int commits = 0;
    std::optional<Endpoint> committed_from;
    for (const auto& [ticket, from] : {std::pair{t1, first}, std::pair{t2, second}}) {
      if (!ticket) continue;
      Bytes buf = bytes;
      const std::span<std::uint8_t> all(buf);
      const auto size = protocol::open_packet(to.node.aead, *ticket->session, buf,
                                              all.subspan(protocol::kDataHeaderSize));
      if (!size) {
        to.node.counters.drop(protocol::DropReason::BadMac);
        continue;
      }
      if (peer.commit_data(*ticket, from, *size, n)) {
        ++commits;
        committed_from = from;
      }
    }
    require(commits <= 1);
    require(collect(to) == 0);
    if (commits == 1) require(to.committed.insert(bytes).second);
    if (peer.endpoint() != endpoint) require(committed_from && peer.endpoint() == *committed_from);
  }

  void inject() {
    End& to = end(in_.u8());
    const std::uint8_t from_pick = in_.u8();
    Bytes bytes = in_.bytes(in_.u8());
    deliver_checked(to, bytes, source(from_pick, other(to)));
  }

  void send_data(End& e) {
    const std::size_t len = in_.u8();
    const auto ticket = e.node.peer->reserve_send(1, now(e));
    if (ticket) {
      require(ticket->session != nullptr);
      if (e.id == 0) require(ticket->to == kAddrB);
      require(ticket->first_counter < protocol::kRejectAfterMessages);
      require(handed_out_.emplace(ticket->session.get(), ticket->first_counter).second);
      sessions_.push_back(ticket->session);  // keeps the pointer unique while we remember it
      Bytes inner(len, static_cast<std::uint8_t>(len));
      Bytes sealed(inner.size() + protocol::kDataOverhead);
      require(protocol::seal_packet(e.node.aead, *ticket->session, ticket->first_counter, inner,
                                    sealed) == sealed.size());
      genuine_.emplace(sealed, e.id);
      pool_.push_back(sealed);
      if (pool_.size() > 64) pool_.pop_front();
      // Data travels outside the Outgoing queue; deliver it now (or never).
      if (!(len & 0x80)) deliver_checked(other(e), sealed, e.addr);
    }
    collect(e);  // a handshake the send may have started
  }

  End& other(const End& e) { return e.id == 0 ? *b_ : *a_; }

  void deliver_checked(End& to, const Bytes& bytes, const Endpoint& from) {
    protocol::Peer& peer = *to.node.peer;
    const std::uint64_t drops = total_drops(to.node.counters);
    const std::uint64_t completed = to.node.counters.handshakes_completed.load();
    const bool had_session = peer.has_session();
    const auto endpoint = peer.endpoint();

    const Delivery result = deliver(to.node, bytes, from, now(to));
    const std::size_t answers = collect(to, &from);

    const bool dropped = total_drops(to.node.counters) != drops;
    const bool authenticated =
        result == Delivery::Committed || to.node.counters.handshakes_completed.load() != completed;
    const auto origin = genuine_.find(bytes);
    const bool is_genuine = origin != genuine_.end();
    const auto type = protocol::classify(bytes);

    // Silence towards whatever was refused.
    if (dropped) require(answers == 0);
    require(!(dropped && result == Delivery::Committed));
    // Nothing an honest end did not send gets anywhere. One exception: libFuzzer can carry
    // a valid initiation over from an earlier run (same key), which to this run is a
    // replay from before a restart. It may be answered (docs/PROTOCOL.md 5.3), but gains
    // nothing: no session, no new peer address.
    if (!is_genuine) {
      require(answers == 0 || type == MessageType::Initiation);
      require(result != Delivery::Committed);
      require(peer.has_session() == had_session);
      require(peer.endpoint() == endpoint);
    }
    // Reflections get nowhere either, however old.
    if (is_genuine && origin->second == to.id) {
      require(result != Delivery::Committed);
      require(answers == 0);
    }
    // At most one answer per initiation, one commit per data message.
    if (type == MessageType::Initiation && answers > 0) {
      require(answers == 1);
      require(to.answered_initiations.insert(bytes).second);
    }
    if (result == Delivery::Committed) require(to.committed.insert(bytes).second);
    // Roaming only on authenticated messages.
    if (peer.endpoint() != endpoint) require(authenticated && peer.endpoint() == from);
    if (to.id == 0) require(peer.endpoint() == kAddrB);
  }

  Reader& in_;
  std::unique_ptr<End> a_;
  std::unique_ptr<End> b_;
  Duration mono_ = 1000s;
  std::uint64_t wall_base_ = 1'700'000'000'000'000'000ULL;
  std::map<Bytes, int> genuine_;  // every message an honest end sent, and which end
  std::deque<Bytes> pool_;        // the recent ones, for replays
  std::set<std::pair<const protocol::Session*, std::uint64_t>> handed_out_;
  std::vector<std::shared_ptr<protocol::Session>> sessions_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Reader in(data, size);
  Harness h(in);
  h.run();
  return 0;
}
