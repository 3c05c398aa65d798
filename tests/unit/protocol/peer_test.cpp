#include "protocol/peer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "crypto/key_file.h"
#include "protocol/data_packet.h"
#include "protocol/messages.h"

// The Peer state machine, driven through a tiny simulated network: two Peers, a shared
// fake clock, deterministic randomness, and a wire that can drop, capture and replay.
namespace squtun::protocol {
namespace {

using Bytes = std::vector<std::uint8_t>;

crypto::Key psk_of(std::uint8_t seed) {
  crypto::Key key;
  for (std::size_t i = 0; i < key.size(); ++i) key.data()[i] = static_cast<std::uint8_t>(seed * 7 + i);
  return key;
}

const base::Endpoint kAddrA = base::Endpoint::v4({198, 18, 0, 1}, 7778);
const base::Endpoint kAddrB = base::Endpoint::v4({198, 18, 0, 2}, 7777);
const base::Endpoint kElsewhere = base::Endpoint::v4({198, 18, 0, 3}, 9999);

Bytes to_bytes(std::span<const std::uint8_t> s) { return Bytes(s.begin(), s.end()); }

Bytes inner_packet(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i);
  return b;
}

// The events a Peer recorded, gathered as the test goes.
struct Reports {
  std::vector<Role> completed;
  std::vector<std::int64_t> skews;
  std::vector<base::Endpoint> moves;
  std::vector<std::pair<base::Endpoint, unsigned>> unanswered;
  void add(const InitiationSent&) {}
  void add(const HandshakeCompleted& e) { completed.push_back(e.role); }
  void add(const ClockSkewRejected& e) { skews.push_back(e.skew_ns); }
  void add(const PeerAddressChanged& e) { moves.push_back(e.now_at); }
  void add(const HandshakeUnanswered& e) { unanswered.emplace_back(e.to, e.count); }
};

// One end: a Peer and everything around it. Not movable (the RandomSource points here).
struct Node {
  Node(std::string node_name, base::Endpoint address) : name(std::move(node_name)), addr(address) {}
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  std::string name;
  base::Endpoint addr;  // the source address of everything it sends
  crypto::Key psk = psk_of(1);
  std::optional<crypto::Key> next_psk;  // --next-key
  PeerConfig config;
  std::optional<std::uint32_t> forced_index;  // every session index the same, if set
  std::int64_t wall_offset_ns = 0;

  std::unique_ptr<Counters> counters;
  std::mt19937_64 rng;
  Reports reports;
  std::unique_ptr<Peer> peer;
  crypto::AeadContext aead;
  std::vector<Bytes> inbox;  // inner packets delivered to this end

  // A fresh Peer (a daemon start or restart).
  void boot(std::uint64_t seed) {
    counters = std::make_unique<Counters>();
    rng.seed(seed);
    reports = Reports{};
    inbox.clear();
    peer = std::make_unique<Peer>(
        psk, next_psk ? &*next_psk : nullptr, config, *counters,
        [this](std::span<std::uint8_t> out) {
          if (forced_index && out.size() == sizeof(std::uint32_t)) {
            std::memcpy(out.data(), &*forced_index, sizeof(std::uint32_t));
            return;
          }
          for (auto& byte : out) byte = static_cast<std::uint8_t>(rng());
        });
  }

  // Everything the Peer reported so far. The fixture also takes the events after every
  // call it makes, as the daemon does, so the Peer's room for them never runs out.
  const Reports& events() {
    for (const auto& event : peer->take_events()) std::visit([this](const auto& e) { reports.add(e); }, event);
    return reports;
  }

  std::uint64_t dropped(DropReason r) const { return counters->dropped(r); }
  std::uint64_t get(const Counters::Counter& c) const { return c.load(); }
};

enum class Result { NotSent, Lost, Dropped, Rejected, Replay, Committed };

struct Captured {
  std::string from;
  Bytes bytes;
  base::Endpoint to;
  Duration at;
};

class PeerTest : public ::testing::Test {
 protected:
  Node a{"A", kAddrA};
  Node b{"B", kAddrB};
  Duration mono = 1000s;
  std::uint64_t wall_base = 1'700'000'000'000'000'000ULL;
  // Return true to drop a datagram on the wire.
  std::function<bool(const Node& from, const Outgoing&)> drop_if;
  std::vector<Captured> wire;  // everything ever sent, dropped or not

  Now now(const Node& n) const {
    return Now{mono, wall_base + static_cast<std::uint64_t>(mono.count() + n.wall_offset_ns)};
  }
  Node* node_at(const base::Endpoint& e) {
    if (e == a.addr) return &a;
    if (e == b.addr) return &b;
    return nullptr;
  }
  Node& other(const Node& n) { return &n == &a ? b : a; }

  void static_pair() {
    a.config.fixed_endpoint = kAddrB;
    b.config.fixed_endpoint = kAddrA;
    a.boot(1);
    b.boot(2);
  }
  void passive_pair() {
    a.config.fixed_endpoint = kAddrB;
    b.config.fixed_endpoint.reset();
    a.boot(1);
    b.boot(2);
  }
  void start_both() {
    a.peer->start(now(a));
    b.peer->start(now(b));
  }
  void establish() {
    start_both();
    exchange();
    ASSERT_TRUE(a.peer->has_session());
    ASSERT_TRUE(b.peer->has_session());
  }

  // A static pair whose first initiations cross on the wire before either end sees a
  // response; returns them (A's, B's) once both sessions are up.
  std::pair<Outgoing, Outgoing> cross_initiations() {
    static_pair();
    start_both();
    const auto ia = drain(a);
    const auto ib = drain(b);
    EXPECT_EQ(ia.size(), 1u);
    EXPECT_EQ(ib.size(), 1u);
    deliver(a, ib.at(0).message(), kAddrB);
    deliver(b, ia.at(0).message(), kAddrA);
    exchange();
    EXPECT_TRUE(a.peer->has_session());
    EXPECT_TRUE(b.peer->has_session());
    return {ia.at(0), ib.at(0)};
  }

  // Hands a datagram to `to`, then opens and commits it the way the daemon does.
  Result deliver(Node& to, std::span<const std::uint8_t> bytes, const base::Endpoint& from) {
    const Now n = now(to);
    const auto ticket = to.peer->receive(bytes, from, n);
    to.events();
    if (!ticket) return Result::Dropped;
    Bytes buf = to_bytes(bytes);
    const std::span<std::uint8_t> all(buf);
    const auto size = open_packet(to.aead, *ticket->session, buf, all.subspan(kDataHeaderSize));
    if (!size) {
      to.counters->drop(DropReason::BadMac);
      return Result::Rejected;
    }
    const bool committed = to.peer->commit_data(*ticket, from, *size, n);
    to.events();
    if (!committed) return Result::Replay;
    if (*size > 0) to.inbox.emplace_back(buf.begin() + kDataHeaderSize, buf.begin() + kDataHeaderSize + *size);
    return Result::Committed;
  }

  std::vector<Outgoing> drain(Node& n) {
    std::vector<Outgoing> out;
    while (auto o = n.peer->pop_outgoing()) out.push_back(*o);
    n.events();
    return out;
  }

  // Moves control messages until both ends are quiet.
  int exchange() {
    int moved = 0;
    for (int round = 0; round < 50; ++round) {
      int this_round = 0;
      for (Node* n : {&a, &b}) {
        for (const Outgoing& o : drain(*n)) {
          wire.push_back({n->name, to_bytes(o.message()), o.to, mono});
          if (drop_if && drop_if(*n, o)) continue;
          Node* dst = node_at(o.to);
          if (dst == nullptr) continue;
          deliver(*dst, o.message(), n->addr);
          ++this_round;
        }
      }
      moved += this_round;
      if (this_round == 0) return moved;
    }
    ADD_FAILURE() << "control messages never settle";
    return moved;
  }

  void tick_both() {
    a.peer->tick(now(a));
    b.peer->tick(now(b));
    a.events();
    b.events();
  }

  // Advances the clock in timer steps, ticking both ends and carrying their messages.
  void run_for(Duration d, const std::function<void()>& each_step = {}) {
    const Duration end = mono + d;
    while (mono < end) {
      mono = std::min(end, mono + kTimerGranularity);
      tick_both();
      exchange();
      if (each_step) each_step();
    }
  }

  struct Sealed {
    Bytes bytes;
    base::Endpoint to;
    std::shared_ptr<Session> session;
    std::uint64_t counter = 0;
  };
  // What a daemon that holds nothing back does: packets the Peer refuses are dropped,
  // counted for the reason the Peer gives.
  std::optional<Peer::SendTicket> reserve(Node& n, std::size_t packets) {
    auto ticket = n.peer->reserve_send(packets, now(n));
    if (!ticket) n.counters->drop(n.peer->unsendable_reason(), packets);
    n.events();
    return ticket;
  }
  // Uses up n's send counters on the session of `t` until `next` is the next one handed out.
  void skip_counters(Node& n, const Peer::SendTicket& t, std::uint64_t next) {
    ASSERT_TRUE(n.peer->reserve_send(next - t.first_counter - 1, now(n)));
  }

  std::optional<Sealed> seal_from(Node& n, const Bytes& inner) {
    const auto ticket = reserve(n, 1);
    if (!ticket) return std::nullopt;
    Bytes out(inner.size() + kDataOverhead);
    EXPECT_EQ(seal_packet(n.aead, *ticket->session, ticket->first_counter, inner, out), out.size());
    return Sealed{out, ticket->to, ticket->session, ticket->first_counter};
  }
  // Seals an inner packet at `from` and delivers it wherever the Peer sends it.
  Result send(Node& from, const Bytes& inner) {
    const auto sealed = seal_from(from, inner);
    if (!sealed) return Result::NotSent;
    wire.push_back({from.name, sealed->bytes, sealed->to, mono});
    Node* dst = node_at(sealed->to);
    if (dst == nullptr) return Result::Lost;
    return deliver(*dst, sealed->bytes, from.addr);
  }

  std::size_t sent_by(const std::string& name) const {
    return static_cast<std::size_t>(
        std::count_if(wire.begin(), wire.end(), [&](const Captured& c) { return c.from == name; }));
  }
  std::vector<Captured> sent_by_of_type(const std::string& name, MessageType type) const {
    std::vector<Captured> out;
    for (const Captured& c : wire) {
      if (c.from == name && classify(c.bytes) == type) out.push_back(c);
    }
    return out;
  }
};

// --- Handshakes and data ---------------------------------------------------------------

TEST_F(PeerTest, StaticPairSimultaneousHandshakeThenDataBothWays) {
  static_pair();
  start_both();
  EXPECT_EQ(a.get(a.counters->initiations_sent), 1u);
  EXPECT_EQ(b.get(b.counters->initiations_sent), 1u);
  exchange();
  ASSERT_TRUE(a.peer->has_session());
  ASSERT_TRUE(b.peer->has_session());
  // The larger random wins the tie: exactly one initiation is answered.
  EXPECT_EQ(a.get(a.counters->responses_sent) + b.get(b.counters->responses_sent), 1u);
  EXPECT_GE(a.get(a.counters->handshakes_completed), 1u);
  EXPECT_GE(b.get(b.counters->handshakes_completed), 1u);
  EXPECT_EQ(a.peer->endpoint(), kAddrB);
  EXPECT_EQ(b.peer->endpoint(), kAddrA);

  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(send(a, inner_packet(100, static_cast<std::uint8_t>(i))), Result::Committed) << i;
    ASSERT_EQ(send(b, inner_packet(60, static_cast<std::uint8_t>(i + 100))), Result::Committed) << i;
  }
  ASSERT_EQ(b.inbox.size(), 50u);
  ASSERT_EQ(a.inbox.size(), 50u);
  EXPECT_EQ(b.inbox[7], inner_packet(100, 7));
  EXPECT_EQ(a.inbox[7], inner_packet(60, 107));
  EXPECT_EQ(b.get(b.counters->rx_packets), 50u);
  EXPECT_EQ(b.get(b.counters->rx_bytes), 5000u);

  // Steady two-way traffic for a minute needs no further handshake.
  run_for(60s, [&] {
    EXPECT_EQ(send(a, inner_packet(10, 1)), Result::Committed);
    EXPECT_EQ(send(b, inner_packet(10, 2)), Result::Committed);
  });
  EXPECT_EQ(a.get(a.counters->initiations_sent), 1u);
  EXPECT_EQ(b.get(b.counters->initiations_sent), 1u);
}

TEST_F(PeerTest, SimultaneousInitiationInAnyDeliveryOrder) {
  cross_initiations();
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(send(a, inner_packet(40, 1)), Result::Committed);
  EXPECT_EQ(send(b, inner_packet(40, 2)), Result::Committed);
}

TEST_F(PeerTest, InitiationIgnoredByTheTieBreakIsNotAnsweredWhenReplayed) {
  // The loser's initiation was authentic but ignored; a recording of it replayed later
  // must not draw a response.
  const auto [ia, ib] = cross_initiations();
  ASSERT_FALSE(HasFailure());
  const std::uint64_t replays_a = a.dropped(DropReason::Replay);
  const std::uint64_t replays_b = b.dropped(DropReason::Replay);
  deliver(a, ib.message(), kAddrB);
  deliver(b, ia.message(), kAddrA);
  EXPECT_TRUE(drain(a).empty());
  EXPECT_TRUE(drain(b).empty());
  EXPECT_EQ(a.dropped(DropReason::Replay) + b.dropped(DropReason::Replay), replays_a + replays_b + 2);
}

TEST_F(PeerTest, HandshakeReportsRolesToObserver) {
  passive_pair();
  establish();
  EXPECT_EQ(a.events().completed, std::vector<Role>{Role::Initiator});
  EXPECT_EQ(b.events().completed, std::vector<Role>{Role::Responder});
  EXPECT_EQ(a.get(a.counters->handshakes_completed), 1u);
  EXPECT_EQ(b.get(b.counters->handshakes_completed), 1u);
  EXPECT_EQ(b.get(b.counters->last_handshake_unix_ns), now(b).wall_ns);
}

TEST_F(PeerTest, OutboundBeforeSessionStartsOneHandshake) {
  passive_pair();
  EXPECT_EQ(send(a, inner_packet(10, 1)), Result::NotSent);
  EXPECT_EQ(a.dropped(DropReason::NoSession), 1u);
  EXPECT_EQ(a.get(a.counters->initiations_sent), 1u);
  EXPECT_EQ(send(a, inner_packet(10, 1)), Result::NotSent);
  EXPECT_EQ(a.dropped(DropReason::NoSession), 2u);
  EXPECT_EQ(a.get(a.counters->initiations_sent), 1u);  // one handshake in flight is enough
  exchange();
  EXPECT_EQ(send(a, inner_packet(10, 1)), Result::Committed);
}

TEST_F(PeerTest, RefusedPacketsAreTheCallersToCount) {
  // The daemon may hold refused packets until a handshake completes and send them then:
  // they are dropped only if it does not, so the Peer counts nothing for them.
  passive_pair();
  EXPECT_FALSE(a.peer->reserve_send(3, now(a)));
  EXPECT_EQ(a.dropped(DropReason::NoSession), 0u);
  EXPECT_EQ(a.peer->unsendable_reason(), DropReason::NoSession);
  EXPECT_FALSE(b.peer->reserve_send(2, now(b)));
  EXPECT_EQ(b.dropped(DropReason::NoPeer), 0u);
  EXPECT_EQ(b.peer->unsendable_reason(), DropReason::NoPeer);
}

// --- The passive end ------------------------------------------------------------------------

TEST_F(PeerTest, PassiveEndLearnsPeerFromAuthenticatedData) {
  passive_pair();
  EXPECT_FALSE(b.peer->endpoint());
  a.peer->start(now(a));
  // The initiation alone teaches B nothing: it answers where it came from, no more.
  auto init = drain(a);
  ASSERT_EQ(init.size(), 1u);
  deliver(b, init[0].message(), kAddrA);
  EXPECT_FALSE(b.peer->endpoint());
  EXPECT_FALSE(b.peer->has_session());
  auto resp = drain(b);
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_EQ(resp[0].to, kAddrA);
  EXPECT_EQ(send(b, inner_packet(10, 1)), Result::NotSent);
  EXPECT_EQ(b.dropped(DropReason::NoPeer), 1u);

  // The response completes A, whose keepalive (authenticated data) teaches B.
  deliver(a, resp[0].message(), kAddrB);
  EXPECT_TRUE(a.peer->has_session());
  exchange();
  EXPECT_TRUE(b.peer->has_session());
  EXPECT_EQ(b.peer->endpoint(), kAddrA);
  EXPECT_EQ(b.events().moves, std::vector<base::Endpoint>{kAddrA});
  EXPECT_EQ(b.get(b.counters->keepalives_received), 1u);
  ASSERT_EQ(send(b, inner_packet(33, 9)), Result::Committed);
  ASSERT_EQ(a.inbox.size(), 1u);
  EXPECT_EQ(a.inbox[0], inner_packet(33, 9));
  EXPECT_EQ(send(a, inner_packet(10, 1)), Result::Committed);
}

TEST_F(PeerTest, PassiveEndWithoutPeerDropsOutboundAndNeverSends) {
  b.config.persistent_keepalive = 5s;  // even with -a, no address means silence
  b.boot(2);
  a.boot(1);  // A exists but never sends anything
  b.peer->start(now(b));
  for (int i = 0; i < 10; ++i) {
    EXPECT_FALSE(reserve(b, 3));
  }
  EXPECT_EQ(b.dropped(DropReason::NoPeer), 30u);
  run_for(300s, [&] { EXPECT_FALSE(b.peer->reserve_send(1, now(b))); });
  EXPECT_EQ(sent_by("B"), 0u);
  EXPECT_EQ(b.get(b.counters->initiations_sent), 0u);
  EXPECT_EQ(b.get(b.counters->keepalives_sent), 0u);
  EXPECT_FALSE(b.peer->pop_outgoing());
}

// --- Roaming ----------------------------------------------------------------------------------

TEST_F(PeerTest, RoamingFollowsOnlyAuthenticatedFreshData) {
  passive_pair();
  establish();
  ASSERT_EQ(send(a, inner_packet(20, 1)), Result::Committed);
  const Bytes old_packet = wire.back().bytes;
  ASSERT_EQ(b.peer->endpoint(), kAddrA);
  const std::size_t moves_before = b.events().moves.size();

  // A moves (NAT rebinding).
  a.addr = kElsewhere;

  // 1. Garbage from the new address, in every shape B might look at twice.
  const auto header = decode_data_header(old_packet);
  ASSERT_TRUE(header);
  Bytes forged = to_bytes(encode(DataHeader{header->receiver_index, header->counter + 100}));
  forged.resize(kDataOverhead + 20, 0x42);
  EXPECT_EQ(deliver(b, forged, kElsewhere), Result::Rejected);
  Bytes junk(64, 0x01);
  junk[1] = junk[2] = junk[3] = 0;
  EXPECT_EQ(deliver(b, junk, kElsewhere), Result::Dropped);  // a forged initiation
  EXPECT_EQ(b.peer->endpoint(), kAddrA);

  // 2. A genuine packet replayed from the new address.
  EXPECT_EQ(deliver(b, old_packet, kElsewhere), Result::Dropped);
  EXPECT_GE(b.dropped(DropReason::Replay), 1u);
  EXPECT_EQ(b.peer->endpoint(), kAddrA);
  EXPECT_EQ(b.events().moves.size(), moves_before);
  EXPECT_TRUE(drain(b).empty());

  // B still answers the old address.
  EXPECT_EQ(send(b, inner_packet(5, 5)), Result::Lost);

  // 3. Fresh authenticated data from the new address: B follows.
  ASSERT_EQ(send(a, inner_packet(20, 2)), Result::Committed);
  EXPECT_EQ(b.peer->endpoint(), kElsewhere);
  ASSERT_FALSE(b.events().moves.empty());
  EXPECT_EQ(b.events().moves.back(), kElsewhere);
  const std::size_t a_inbox = a.inbox.size();
  EXPECT_EQ(send(b, inner_packet(5, 6)), Result::Committed);
  EXPECT_EQ(a.inbox.size(), a_inbox + 1);
}

TEST_F(PeerTest, RoamingIgnoresAReplayRacingTheOriginal) {
  passive_pair();
  establish();
  const auto sealed = seal_from(a, inner_packet(20, 1));
  ASSERT_TRUE(sealed);
  // The same packet arrives twice before either is committed: both pass the cheap check,
  // but only the first commit counts, and the second cannot move the peer.
  const auto t1 = b.peer->receive(sealed->bytes, kAddrA, now(b));
  const auto t2 = b.peer->receive(sealed->bytes, kElsewhere, now(b));
  ASSERT_TRUE(t1);
  ASSERT_TRUE(t2);
  EXPECT_TRUE(b.peer->commit_data(*t1, kAddrA, 20, now(b)));
  EXPECT_FALSE(b.peer->commit_data(*t2, kElsewhere, 20, now(b)));
  EXPECT_EQ(b.peer->endpoint(), kAddrA);
  EXPECT_EQ(b.dropped(DropReason::Replay), 1u);
}

TEST_F(PeerTest, HandshakeFromNewAddressDoesNotMovePassiveEndUntilData) {
  passive_pair();
  establish();
  a.addr = kElsewhere;
  // A re-handshakes from its new address (forced here by exhausting the session).
  const auto t = a.peer->reserve_send(1, now(a));
  ASSERT_TRUE(t);
  skip_counters(a, *t, kRejectAfterMessages - 1);  // the last counter: none is left for a packet
  EXPECT_FALSE(a.peer->reserve_send(1, now(a)));
  auto init = drain(a);
  ASSERT_EQ(init.size(), 1u);
  deliver(b, init[0].message(), kElsewhere);
  EXPECT_EQ(b.peer->endpoint(), kAddrA);  // answered, not followed
  auto resp = drain(b);
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_EQ(resp[0].to, kElsewhere);
  deliver(a, resp[0].message(), kAddrB);
  exchange();  // A's confirming keepalive
  EXPECT_EQ(b.peer->endpoint(), kElsewhere);
}

TEST_F(PeerTest, FixedEndpointDropsOtherSources) {
  static_pair();
  establish();
  a.addr = kElsewhere;
  EXPECT_EQ(send(a, inner_packet(20, 1)), Result::Dropped);
  EXPECT_EQ(b.dropped(DropReason::WrongSource), 1u);
  EXPECT_TRUE(b.inbox.empty());
  EXPECT_EQ(b.peer->endpoint(), kAddrA);
  // Not even a valid initiation from there gets an answer.
  const auto t = a.peer->reserve_send(1, now(a));
  ASSERT_TRUE(t);
  skip_counters(a, *t, kRejectAfterMessages - 1);  // the last counter: none is left for a packet
  EXPECT_FALSE(a.peer->reserve_send(1, now(a)));
  auto init = drain(a);
  ASSERT_EQ(init.size(), 1u);
  const auto responses = b.get(b.counters->responses_sent);
  EXPECT_EQ(deliver(b, init[0].message(), kElsewhere), Result::Dropped);
  EXPECT_EQ(b.dropped(DropReason::WrongSource), 2u);
  EXPECT_EQ(b.get(b.counters->responses_sent), responses);
  EXPECT_TRUE(drain(b).empty());
  // From the right address the same bytes are fine.
  deliver(b, init[0].message(), kAddrA);
  EXPECT_EQ(b.get(b.counters->responses_sent), responses + 1);
}

// --- Replays, reflections, late messages -------------------------------------------------

TEST_F(PeerTest, ReplayedInitiationRejectedWithoutResponse) {
  passive_pair();
  a.peer->start(now(a));
  auto init = drain(a);
  ASSERT_EQ(init.size(), 1u);
  const Bytes bytes = to_bytes(init[0].message());
  deliver(b, bytes, kAddrA);
  EXPECT_EQ(b.get(b.counters->responses_sent), 1u);
  auto resp = drain(b);
  ASSERT_EQ(resp.size(), 1u);

  // Immediately again, and again after the handshake completed and much later.
  EXPECT_EQ(deliver(b, bytes, kAddrA), Result::Dropped);
  EXPECT_EQ(b.dropped(DropReason::Replay), 1u);
  EXPECT_TRUE(drain(b).empty());
  deliver(a, resp[0].message(), kAddrB);
  exchange();
  ASSERT_TRUE(b.peer->has_session());
  ASSERT_EQ(send(a, inner_packet(10, 1)), Result::Committed);
  mono += 30s;
  EXPECT_EQ(deliver(b, bytes, kElsewhere), Result::Dropped);
  EXPECT_EQ(deliver(b, bytes, kAddrA), Result::Dropped);
  EXPECT_EQ(b.dropped(DropReason::Replay), 3u);
  EXPECT_TRUE(drain(b).empty());
  EXPECT_EQ(b.get(b.counters->responses_sent), 1u);
  // And the session in use survived.
  EXPECT_EQ(send(a, inner_packet(10, 2)), Result::Committed);
  EXPECT_EQ(b.peer->endpoint(), kAddrA);
}

TEST_F(PeerTest, OlderInitiationRejectedAfterNewerOne) {
  passive_pair();
  drop_if = [](const Node&, const Outgoing&) { return true; };
  a.peer->start(now(a));
  run_for(2s);  // A retries
  drop_if = {};
  const auto inits = sent_by_of_type("A", MessageType::Initiation);
  ASSERT_EQ(inits.size(), 2u);
  deliver(b, inits[1].bytes, kAddrA);
  EXPECT_EQ(b.get(b.counters->responses_sent), 1u);
  EXPECT_EQ(deliver(b, inits[0].bytes, kAddrA), Result::Dropped);
  EXPECT_EQ(b.dropped(DropReason::Replay), 1u);
  EXPECT_EQ(b.get(b.counters->responses_sent), 1u);
}

TEST_F(PeerTest, ReplayedDataRejected) {
  passive_pair();
  establish();
  ASSERT_EQ(send(a, inner_packet(50, 1)), Result::Committed);
  const Bytes packet = wire.back().bytes;
  const auto replays = b.dropped(DropReason::Replay);
  EXPECT_EQ(deliver(b, packet, kAddrA), Result::Dropped);
  EXPECT_EQ(b.dropped(DropReason::Replay), replays + 1);
  EXPECT_EQ(b.inbox.size(), 1u);
  EXPECT_EQ(b.get(b.counters->rx_packets), 1u);
  // Even much later, and even after newer packets.
  for (int i = 0; i < 100; ++i) ASSERT_EQ(send(a, inner_packet(10, 2)), Result::Committed);
  mono += 10s;
  EXPECT_EQ(deliver(b, packet, kAddrA), Result::Dropped);
  EXPECT_EQ(b.inbox.size(), 101u);
  EXPECT_TRUE(drain(b).empty());
}

TEST_F(PeerTest, ReflectedInitiationRejected) {
  static_pair();
  a.peer->start(now(a));
  auto init = drain(a);
  ASSERT_EQ(init.size(), 1u);
  EXPECT_EQ(deliver(a, init[0].message(), kAddrB), Result::Dropped);
  EXPECT_EQ(a.dropped(DropReason::Reflected), 1u);
  EXPECT_TRUE(drain(a).empty());
  EXPECT_EQ(a.get(a.counters->responses_sent), 0u);
  EXPECT_FALSE(a.peer->has_session());
}

TEST_F(PeerTest, ReflectedOlderInitiationRejected) {
  // An initiation from several retries ago, reflected back, must not be taken for the
  // peer's either (DESIGN.md 2: a reflected packet must not be mistaken for the peer's).
  static_pair();
  drop_if = [](const Node&, const Outgoing&) { return true; };
  a.peer->start(now(a));
  run_for(11s);  // five retries
  drop_if = {};
  const auto inits = sent_by_of_type("A", MessageType::Initiation);
  ASSERT_GE(inits.size(), 6u);
  const auto before = a.get(a.counters->responses_sent);
  EXPECT_EQ(deliver(a, inits[0].bytes, kAddrB), Result::Dropped);
  EXPECT_EQ(a.dropped(DropReason::Reflected), 1u);
  EXPECT_EQ(a.get(a.counters->responses_sent), before);
  EXPECT_TRUE(drain(a).empty());
}

TEST_F(PeerTest, ReflectedDataRejected) {
  // Force both ends to pick the same session index, so a reflected packet finds a session
  // at its sender: only the per-direction keys can reject it.
  a.forced_index = 0x5a5a5a5a;
  b.forced_index = 0x5a5a5a5a;
  passive_pair();
  establish();
  const auto sealed = seal_from(a, inner_packet(40, 1));
  ASSERT_TRUE(sealed);
  const auto bad_macs = a.dropped(DropReason::BadMac);
  EXPECT_EQ(deliver(a, sealed->bytes, kAddrB), Result::Rejected);
  EXPECT_EQ(a.dropped(DropReason::BadMac), bad_macs + 1);
  EXPECT_TRUE(a.inbox.empty());
  EXPECT_TRUE(drain(a).empty());
  // A reflected keepalive likewise.
  const auto keepalive = seal_from(a, {});
  ASSERT_TRUE(keepalive);
  const auto ka_received = a.get(a.counters->keepalives_received);
  EXPECT_EQ(deliver(a, keepalive->bytes, kAddrB), Result::Rejected);
  EXPECT_EQ(a.get(a.counters->keepalives_received), ka_received);
  // The genuine recipient opens both.
  EXPECT_EQ(deliver(b, sealed->bytes, kAddrA), Result::Committed);
  EXPECT_EQ(deliver(b, keepalive->bytes, kAddrA), Result::Committed);
}

TEST_F(PeerTest, ReflectedDataWithDistinctIndicesRejected) {
  static_pair();
  establish();
  const auto sealed = seal_from(a, inner_packet(40, 1));
  ASSERT_TRUE(sealed);
  const Result r = deliver(a, sealed->bytes, kAddrB);
  EXPECT_TRUE(r == Result::Dropped || r == Result::Rejected);
  EXPECT_TRUE(a.inbox.empty());
  EXPECT_TRUE(drain(a).empty());
}

TEST_F(PeerTest, ReflectedResponseRejected) {
  // B's own initiation reuses A's index, so B's response reflected back to B passes the
  // index check and only the MAC (bound to the initiation it answers) can refuse it.
  a.forced_index = 0x01020304;
  b.forced_index = 0x0a0b0c0d;
  passive_pair();
  b.config.fixed_endpoint = kAddrA;  // so B also initiates
  b.boot(2);
  a.peer->start(now(a));
  const auto ia = drain(a);
  ASSERT_EQ(ia.size(), 1u);
  deliver(b, ia[0].message(), kAddrA);
  const auto out = drain(b);
  ASSERT_EQ(out.size(), 1u);
  const auto& response = out[0];
  ASSERT_EQ(classify(response.message()), MessageType::Response);
  // B now initiates too, with the index the response names (A's).
  b.forced_index = 0x01020304;
  b.peer->start(now(b));
  const auto ib = drain(b);
  ASSERT_EQ(ib.size(), 1u);
  ASSERT_EQ(classify(ib[0].message()), MessageType::Initiation);
  EXPECT_EQ(deliver(b, response.message(), kAddrA), Result::Dropped);
  EXPECT_EQ(b.dropped(DropReason::BadMac), 1u);
  EXPECT_FALSE(b.peer->has_session());
  EXPECT_TRUE(drain(b).empty());
}

TEST_F(PeerTest, LateResponseToRetriedInitiationDropped) {
  passive_pair();
  a.peer->start(now(a));
  auto first = drain(a);
  ASSERT_EQ(first.size(), 1u);
  deliver(b, first[0].message(), kAddrA);
  auto late = drain(b);
  ASSERT_EQ(late.size(), 1u);
  // The response is delayed past A's retry.
  mono += kRekeyTimeout;
  a.peer->tick(now(a));
  auto second = drain(a);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_NE(to_bytes(second[0].message()), to_bytes(first[0].message()));
  EXPECT_EQ(deliver(a, late[0].message(), kAddrB), Result::Dropped);
  EXPECT_EQ(a.dropped(DropReason::UnknownSession), 1u);
  EXPECT_FALSE(a.peer->has_session());
  EXPECT_TRUE(drain(a).empty());
  // The retry completes normally.
  deliver(b, second[0].message(), kAddrA);
  exchange();
  EXPECT_TRUE(a.peer->has_session());
  EXPECT_TRUE(b.peer->has_session());
  EXPECT_EQ(send(a, inner_packet(10, 1)), Result::Committed);
  EXPECT_EQ(send(b, inner_packet(10, 2)), Result::Committed);
}

TEST_F(PeerTest, DuplicateResponseIgnored) {
  passive_pair();
  a.peer->start(now(a));
  auto init = drain(a);
  deliver(b, init[0].message(), kAddrA);
  auto resp = drain(b);
  ASSERT_EQ(resp.size(), 1u);
  deliver(a, resp[0].message(), kAddrB);
  ASSERT_TRUE(a.peer->has_session());
  drain(a);
  EXPECT_EQ(deliver(a, resp[0].message(), kAddrB), Result::Dropped);
  EXPECT_EQ(a.dropped(DropReason::UnknownSession), 1u);
  EXPECT_TRUE(drain(a).empty());
  EXPECT_EQ(a.get(a.counters->handshakes_completed), 1u);
}

// --- Clock skew ------------------------------------------------------------------------------

TEST_F(PeerTest, ClockSkewBeyondLimitRejected) {
  for (std::int64_t sign : {1, -1}) {
    passive_pair();
    b.config.max_clock_skew = 30s;
    b.boot(2);
    a.wall_offset_ns = sign * std::chrono::nanoseconds(60s).count();
    a.peer->start(now(a));
    exchange();
    EXPECT_EQ(b.dropped(DropReason::ClockSkew), 1u);
    ASSERT_EQ(b.events().skews.size(), 1u);
    EXPECT_EQ(b.events().skews[0], sign * std::chrono::nanoseconds(60s).count());
    EXPECT_EQ(b.get(b.counters->responses_sent), 0u);
    EXPECT_FALSE(a.peer->has_session());
    EXPECT_FALSE(b.peer->has_session());
    EXPECT_EQ(sent_by("B"), 0u);
    wire.clear();
  }
}

TEST_F(PeerTest, ClockSkewWithinLimitAccepted) {
  for (std::int64_t offset : {std::int64_t{29'000'000'000}, std::int64_t{-29'000'000'000},
                              std::int64_t{30'000'000'000}, std::int64_t{0}}) {
    passive_pair();
    b.config.max_clock_skew = 30s;
    b.boot(2);
    a.wall_offset_ns = offset;
    establish();
    EXPECT_EQ(b.dropped(DropReason::ClockSkew), 0u) << offset;
    EXPECT_TRUE(b.events().skews.empty());
    EXPECT_EQ(send(a, inner_packet(10, 1)), Result::Committed);
  }
}

TEST_F(PeerTest, WithoutSkewLimitAClockBehindOrALittleAheadWorks) {
  const auto almost_ahead = std::chrono::nanoseconds(kMaxTimestampAhead - 1s).count();
  for (std::int64_t offset : {almost_ahead, std::int64_t{-315'360'000'000'000'000}}) {
    passive_pair();
    a.wall_offset_ns = offset;  // up to ten years behind
    establish();
    EXPECT_EQ(b.dropped(DropReason::ClockSkew), 0u);
    EXPECT_EQ(send(a, inner_packet(10, 1)), Result::Committed);
    EXPECT_EQ(send(b, inner_packet(10, 2)), Result::Committed);
  }
}

TEST_F(PeerTest, SkewLimitClosesTheRestartReplayWindow) {
  // A restarted responder has no timestamp to compare with; -c still refuses an old
  // captured initiation.
  passive_pair();
  b.config.max_clock_skew = 30s;
  b.boot(2);
  a.peer->start(now(a));
  const auto init = drain(a);
  ASSERT_EQ(init.size(), 1u);
  mono += 60s;
  b.boot(3);  // restart
  EXPECT_EQ(deliver(b, init[0].message(), kAddrA), Result::Dropped);
  EXPECT_EQ(b.dropped(DropReason::ClockSkew), 1u);
  EXPECT_TRUE(drain(b).empty());
}

// --- Timers ------------------------------------------------------------------------------------

TEST_F(PeerTest, HandshakeRetriedAfterRekeyTimeout) {
  passive_pair();
  drop_if = [](const Node&, const Outgoing&) { return true; };
  a.peer->start(now(a));
  EXPECT_EQ(a.get(a.counters->initiations_sent), 1u);
  run_for(kRekeyTimeout - kTimerGranularity);
  EXPECT_EQ(a.get(a.counters->initiations_sent), 1u);
  run_for(kTimerGranularity);
  EXPECT_EQ(a.get(a.counters->initiations_sent), 2u);
  run_for(kRekeyTimeout);
  EXPECT_EQ(a.get(a.counters->initiations_sent), 3u);
  // Each retry is a new initiation with a newer timestamp.
  const auto inits = sent_by_of_type("A", MessageType::Initiation);
  ASSERT_EQ(inits.size(), 3u);
  const auto i0 = decode_initiation(inits[0].bytes);
  const auto i1 = decode_initiation(inits[1].bytes);
  ASSERT_TRUE(i0 && i1);
  EXPECT_NE(i0->random, i1->random);
  EXPECT_NE(i0->sender_index, i1->sender_index);
  EXPECT_GT(i1->timestamp_ns, i0->timestamp_ns);
}

TEST_F(PeerTest, HandshakeGivesUpAfterRekeyAttemptTime) {
  passive_pair();
  drop_if = [](const Node&, const Outgoing&) { return true; };
  a.peer->start(now(a));
  run_for(kRekeyAttemptTime);
  const auto attempts = a.get(a.counters->initiations_sent);
  EXPECT_EQ(attempts, static_cast<std::uint64_t>(kRekeyAttemptTime / kRekeyTimeout));
  run_for(300s);
  EXPECT_EQ(a.get(a.counters->initiations_sent), attempts);
  // New traffic starts a new attempt.
  EXPECT_EQ(send(a, inner_packet(10, 1)), Result::NotSent);
  EXPECT_EQ(a.get(a.counters->initiations_sent), attempts + 1);
  drop_if = {};
  exchange();
  EXPECT_EQ(send(a, inner_packet(10, 1)), Result::Committed);
}

// --- A peer that moved (its host name resolves elsewhere now) ----------------------------

TEST_F(PeerTest, UnansweredInitiationsReportedEveryFew) {
  passive_pair();
  drop_if = [](const Node&, const Outgoing&) { return true; };
  a.peer->start(now(a));
  constexpr unsigned k = kUnansweredInitiationsBeforeLookup;
  run_for(k * kRekeyTimeout - kTimerGranularity);
  EXPECT_TRUE(a.events().unanswered.empty());
  run_for(kTimerGranularity);
  ASSERT_EQ(a.events().unanswered.size(), 1u);
  EXPECT_EQ(a.events().unanswered[0].first, kAddrB);
  EXPECT_EQ(a.events().unanswered[0].second, k);
  run_for(k * kRekeyTimeout);
  ASSERT_EQ(a.events().unanswered.size(), 2u);
  EXPECT_EQ(a.events().unanswered[1].second, 2 * k);
  // The attempt gives up after kRekeyAttemptTime; reports stop with the initiations.
  run_for(kRekeyAttemptTime + 60s);
  const auto reports = a.events().unanswered.size();
  EXPECT_EQ(reports, static_cast<std::size_t>(kRekeyAttemptTime / kRekeyTimeout / k));
  run_for(60s);
  EXPECT_EQ(a.events().unanswered.size(), reports);
  EXPECT_TRUE(b.events().unanswered.empty());
}

TEST_F(PeerTest, AnsweredInitiationsReportNothingAndResetTheCount) {
  passive_pair();
  // The first k - 1 initiations are lost, then the peer answers.
  int lost = 0;
  drop_if = [&](const Node& from, const Outgoing& o) {
    return from.name == "A" && classify(o.message()) == MessageType::Initiation &&
           lost++ < static_cast<int>(kUnansweredInitiationsBeforeLookup) - 1;
  };
  a.peer->start(now(a));
  run_for(kUnansweredInitiationsBeforeLookup * kRekeyTimeout);
  ASSERT_TRUE(a.peer->has_session());
  EXPECT_TRUE(a.events().unanswered.empty());
  // Later, k - 1 more unanswered initiations start counting from zero again.
  b.boot(5);  // B restarts and knows nothing; A's rekey goes unanswered for a while
  lost = 0;
  drop_if = [&](const Node& from, const Outgoing& o) {
    return from.name == "A" && classify(o.message()) == MessageType::Initiation &&
           lost++ < static_cast<int>(kUnansweredInitiationsBeforeLookup) - 1;
  };
  run_for(kRekeyAfterTime + 10s, [&] { send(a, inner_packet(10, 1)); });
  EXPECT_EQ(send(a, inner_packet(10, 1)), Result::Committed);
  EXPECT_TRUE(a.events().unanswered.empty());
}

TEST_F(PeerTest, SetFixedEndpointMovesInitiationsAndTheSenderCheck) {
  const base::Endpoint moved = base::Endpoint::v4({198, 18, 0, 9}, 7777);
  passive_pair();
  establish();
  ASSERT_EQ(send(a, inner_packet(10, 1)), Result::Committed);
  // B moves: A's packets to the old address go nowhere, and A's handshakes go unanswered.
  b.addr = moved;
  std::optional<Duration> reported;
  run_for(20s, [&] {
    send(a, inner_packet(10, 2));
    if (!reported && !a.events().unanswered.empty()) reported = mono;
  });
  ASSERT_TRUE(reported) << "unanswered handshakes were never reported";
  EXPECT_EQ(a.events().unanswered[0].first, kAddrB);
  // The daemon looks the name up again and hands the new address over.
  const auto initiations = sent_by_of_type("A", MessageType::Initiation).size();
  EXPECT_TRUE(a.peer->set_fixed_endpoint(moved, now(a)));
  // The handshake under way starts again at once, at the new address.
  auto out = drain(a);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(classify(out[0].message()), MessageType::Initiation);
  EXPECT_EQ(out[0].to, moved);
  EXPECT_EQ(sent_by_of_type("A", MessageType::Initiation).size(), initiations);  // not yet on the wire
  deliver(b, out[0].message(), kAddrA);
  exchange();
  // Only the completed handshake moves the session there.
  EXPECT_EQ(a.peer->endpoint(), moved);
  ASSERT_FALSE(a.events().moves.empty());
  EXPECT_EQ(a.events().moves.back(), moved);
  EXPECT_EQ(send(a, inner_packet(10, 3)), Result::Committed);
  EXPECT_EQ(send(b, inner_packet(10, 4)), Result::Committed);
  // The sender check follows: the old address is now a stranger.
  const auto wrong = a.dropped(DropReason::WrongSource);
  const auto sealed = seal_from(b, inner_packet(10, 5));
  ASSERT_TRUE(sealed);
  EXPECT_EQ(deliver(a, sealed->bytes, kAddrB), Result::Dropped);
  EXPECT_EQ(a.dropped(DropReason::WrongSource), wrong + 1);
  EXPECT_EQ(deliver(a, sealed->bytes, moved), Result::Committed);
  // The same address again changes nothing and starts no handshake.
  EXPECT_FALSE(a.peer->set_fixed_endpoint(moved, now(a)));
  EXPECT_TRUE(drain(a).empty());
}

TEST_F(PeerTest, PersistentKeepaliveEveryInterval) {
  a.config.persistent_keepalive = 10s;
  a.config.fixed_endpoint = kAddrB;
  a.boot(1);
  b.boot(2);
  establish();
  const auto sent0 = a.get(a.counters->keepalives_sent);
  const auto recv0 = b.get(b.counters->keepalives_received);
  run_for(9750ms);
  EXPECT_EQ(a.get(a.counters->keepalives_sent), sent0);
  run_for(250ms);
  EXPECT_EQ(a.get(a.counters->keepalives_sent), sent0 + 1);
  run_for(50s);
  EXPECT_EQ(a.get(a.counters->keepalives_sent), sent0 + 6);
  EXPECT_EQ(b.get(b.counters->keepalives_received), recv0 + 6);
  // B, without -a, never sends keepalives for keepalives.
  EXPECT_EQ(b.get(b.counters->keepalives_sent), 0u);
}

TEST_F(PeerTest, PersistentKeepaliveHandshakesWhenNeeded) {
  // With -a and no session, the keepalive timer brings one up (the NAT case).
  a.config.persistent_keepalive = 25s;
  a.config.fixed_endpoint = kAddrB;
  a.boot(1);
  b.boot(2);
  drop_if = [](const Node&, const Outgoing&) { return true; };
  a.peer->start(now(a));
  run_for(kRekeyAttemptTime + 10s);  // the first attempt gave up
  const auto attempts = a.get(a.counters->initiations_sent);
  drop_if = {};
  run_for(30s);
  EXPECT_GT(a.get(a.counters->initiations_sent), attempts);
  EXPECT_TRUE(a.peer->has_session());
  EXPECT_TRUE(b.peer->has_session());
  EXPECT_EQ(b.peer->endpoint(), kAddrA);
}

TEST_F(PeerTest, NoKeepalivesWithoutTrafficOrFlag) {
  passive_pair();
  establish();
  const auto a0 = a.get(a.counters->keepalives_sent);
  run_for(100s);
  EXPECT_EQ(a.get(a.counters->keepalives_sent), a0);
  EXPECT_EQ(b.get(b.counters->keepalives_sent), 0u);
  EXPECT_EQ(a.get(a.counters->initiations_sent), 1u);
}

TEST_F(PeerTest, PassiveKeepaliveAnswersUnansweredData) {
  passive_pair();
  establish();
  mono += 1s;
  ASSERT_EQ(send(a, inner_packet(10, 1)), Result::Committed);
  const auto a_recv = a.get(a.counters->keepalives_received);
  run_for(kPassiveKeepaliveTimeout - kTimerGranularity);
  EXPECT_EQ(b.get(b.counters->keepalives_sent), 0u);
  run_for(kTimerGranularity);
  EXPECT_EQ(b.get(b.counters->keepalives_sent), 1u);
  EXPECT_EQ(a.get(a.counters->keepalives_received), a_recv + 1);
  run_for(30s);
  EXPECT_EQ(b.get(b.counters->keepalives_sent), 1u);  // once per unanswered data
}

TEST_F(PeerTest, NoPassiveKeepaliveWhenDataWasAnswered) {
  passive_pair();
  establish();
  mono += 1s;
  ASSERT_EQ(send(a, inner_packet(10, 1)), Result::Committed);
  mono += 1s;
  ASSERT_EQ(send(b, inner_packet(10, 2)), Result::Committed);
  run_for(20s);
  EXPECT_EQ(b.get(b.counters->keepalives_sent), 0u);
}

TEST_F(PeerTest, OneWayTrafficKeepsItsSession) {
  // A streams to B, B has nothing to say: B's keepalives must tell A the session is alive
  // before A's new-handshake timer fires, so no needless handshakes.
  passive_pair();
  establish();
  run_for(60s, [&] { ASSERT_EQ(send(a, inner_packet(100, 1)), Result::Committed); });
  EXPECT_EQ(a.get(a.counters->initiations_sent), 1u);
  EXPECT_GE(b.get(b.counters->keepalives_sent), 1u);
}

TEST_F(PeerTest, NewHandshakeWhenDataSentAndNothingHeard) {
  passive_pair();
  establish();
  drop_if = [](const Node& from, const Outgoing&) { return from.name == "B"; };
  const auto sealed = seal_from(a, inner_packet(10, 1));  // lost: B never answers
  ASSERT_TRUE(sealed);
  run_for(kNewHandshakeTimeout - kTimerGranularity);
  EXPECT_EQ(a.get(a.counters->initiations_sent), 1u);
  run_for(kTimerGranularity);
  EXPECT_EQ(a.get(a.counters->initiations_sent), 2u);
}

TEST_F(PeerTest, AnsweredDataNeedsNoNewHandshake) {
  passive_pair();
  establish();
  run_for(30s, [&] {
    ASSERT_EQ(send(a, inner_packet(10, 1)), Result::Committed);
    ASSERT_EQ(send(b, inner_packet(10, 2)), Result::Committed);
  });
  EXPECT_EQ(a.get(a.counters->initiations_sent), 1u);
}

// --- Restarts ------------------------------------------------------------------------------------

TEST_F(PeerTest, StaticPairRestartOfOneEnd) {
  static_pair();
  establish();
  run_for(20s, [&] { ASSERT_EQ(send(a, inner_packet(10, 1)), Result::Committed); });
  // B restarts: a fresh Peer, same key, A untouched.
  b.boot(77);
  b.peer->start(now(b));
  const Duration restarted = mono;
  std::optional<Duration> resumed;
  run_for(15s, [&] {
    if (!resumed && send(a, inner_packet(10, 2)) == Result::Committed) resumed = mono;
  });
  ASSERT_TRUE(resumed);
  EXPECT_LE(*resumed - restarted, 10s);
  EXPECT_EQ(send(b, inner_packet(10, 3)), Result::Committed);
}

TEST_F(PeerTest, PassiveEndRestartsAndActiveEndReHandshakes) {
  passive_pair();
  establish();
  run_for(20s, [&] { ASSERT_EQ(send(a, inner_packet(10, 1)), Result::Committed); });
  b.boot(77);  // the passive end restarts and knows nothing
  const Duration restarted = mono;
  EXPECT_EQ(send(a, inner_packet(10, 2)), Result::Dropped);
  EXPECT_EQ(b.dropped(DropReason::UnknownSession), 1u);
  EXPECT_TRUE(drain(b).empty());  // silence: B does not even know where A is
  std::optional<Duration> resumed;
  run_for(15s, [&] {
    if (!resumed && send(a, inner_packet(10, 2)) == Result::Committed) resumed = mono;
  });
  ASSERT_TRUE(resumed);
  EXPECT_LE(*resumed - restarted, 10s);
  EXPECT_EQ(b.peer->endpoint(), kAddrA);
  EXPECT_EQ(send(b, inner_packet(10, 3)), Result::Committed);
}

TEST_F(PeerTest, ActiveEndRestartsAndPassiveEndAccepts) {
  passive_pair();
  establish();
  run_for(20s, [&] {
    ASSERT_EQ(send(a, inner_packet(10, 1)), Result::Committed);
    ASSERT_EQ(send(b, inner_packet(10, 1)), Result::Committed);
  });
  a.boot(99);
  a.peer->start(now(a));
  exchange();
  EXPECT_TRUE(a.peer->has_session());
  EXPECT_EQ(b.get(b.counters->handshakes_completed), 2u);
  EXPECT_EQ(send(a, inner_packet(10, 2)), Result::Committed);
  EXPECT_EQ(send(b, inner_packet(10, 3)), Result::Committed);
}

// --- Session lifetime ------------------------------------------------------------------------

TEST_F(PeerTest, RekeyAfterTimeKeepsPacketsInFlight) {
  passive_pair();
  establish();
  std::shared_ptr<Session> first_session;
  {
    const auto t = seal_from(a, inner_packet(1, 1));
    ASSERT_TRUE(t);
    first_session = t->session;
  }
  // Two-way traffic up to just before the rekey time.
  run_for(kRekeyAfterTime - 1s, [&] {
    ASSERT_EQ(send(a, inner_packet(10, 1)), Result::Committed);
    ASSERT_EQ(send(b, inner_packet(10, 2)), Result::Committed);
  });
  EXPECT_EQ(a.get(a.counters->initiations_sent), 1u);
  mono += 1s;
  // Packets sealed on the old session, not yet delivered.
  const auto from_a = seal_from(a, inner_packet(30, 3));  // this one starts the rekey
  const auto from_b = seal_from(b, inner_packet(30, 4));
  ASSERT_TRUE(from_a && from_b);
  EXPECT_EQ(from_a->session, first_session);
  EXPECT_EQ(a.get(a.counters->initiations_sent), 2u);
  exchange();
  const auto after = seal_from(a, inner_packet(1, 1));
  ASSERT_TRUE(after);
  EXPECT_NE(after->session, first_session);
  EXPECT_EQ(after->counter, 1u);  // the confirming keepalive used 0
  EXPECT_EQ(deliver(b, after->bytes, kAddrA), Result::Committed);
  // The stragglers still open, through the previous session.
  EXPECT_EQ(deliver(b, from_a->bytes, kAddrA), Result::Committed);
  EXPECT_EQ(deliver(a, from_b->bytes, kAddrB), Result::Committed);
  EXPECT_EQ(b.inbox.back(), inner_packet(30, 3));
  EXPECT_EQ(a.inbox.back(), inner_packet(30, 4));
  // B now sends on the new session too.
  const auto from_b_new = seal_from(b, inner_packet(5, 5));
  ASSERT_TRUE(from_b_new);
  EXPECT_NE(from_b_new->session->remote_index, from_b->session->remote_index);
  EXPECT_EQ(deliver(a, from_b_new->bytes, kAddrB), Result::Committed);
}

TEST_F(PeerTest, StaticPairRekeyKeepsPacketsInFlight) {
  static_pair();
  establish();
  run_for(kRekeyAfterTime - 1s, [&] {
    ASSERT_EQ(send(a, inner_packet(10, 1)), Result::Committed);
    ASSERT_EQ(send(b, inner_packet(10, 2)), Result::Committed);
  });
  const auto initiations = a.get(a.counters->initiations_sent) + b.get(b.counters->initiations_sent);
  mono += 1s;
  const auto from_a = seal_from(a, inner_packet(30, 3));
  const auto from_b = seal_from(b, inner_packet(30, 4));
  ASSERT_TRUE(from_a && from_b);
  EXPECT_GT(a.get(a.counters->initiations_sent) + b.get(b.counters->initiations_sent), initiations);
  exchange();
  EXPECT_EQ(send(a, inner_packet(10, 5)), Result::Committed);
  EXPECT_EQ(send(b, inner_packet(10, 6)), Result::Committed);
  EXPECT_EQ(deliver(b, from_a->bytes, kAddrA), Result::Committed);
  EXPECT_EQ(deliver(a, from_b->bytes, kAddrB), Result::Committed);
}

TEST_F(PeerTest, SessionsExpireAfterRejectAfterTime) {
  passive_pair();
  establish();
  const Duration established = mono;
  mono = established + kRejectAfterTime - 1s;
  const auto late = seal_from(a, inner_packet(10, 1));  // sealed just in time
  ASSERT_TRUE(late);
  const auto just_in_time = seal_from(a, inner_packet(10, 2));
  ASSERT_TRUE(just_in_time);
  EXPECT_EQ(deliver(b, just_in_time->bytes, kAddrA), Result::Committed);
  drain(a);  // the rekey attempt this started is lost
  mono = established + kRejectAfterTime;
  EXPECT_EQ(deliver(b, late->bytes, kAddrA), Result::Dropped);
  EXPECT_EQ(b.dropped(DropReason::Expired), 1u);
  // Sending on it is refused too, and a handshake is wanted.
  EXPECT_EQ(send(a, inner_packet(10, 3)), Result::NotSent);
  EXPECT_GE(a.dropped(DropReason::NoSession), 1u);
  tick_both();
  EXPECT_FALSE(a.peer->has_session());
  EXPECT_FALSE(b.peer->has_session());
  EXPECT_FALSE(b.peer->reserve_send(1, now(b)));
}

TEST_F(PeerTest, CounterExhaustionForcesNewSession) {
  passive_pair();
  establish();
  const auto t = a.peer->reserve_send(1, now(a));
  ASSERT_TRUE(t);
  const std::shared_ptr<Session> old = t->session;
  skip_counters(a, *t, kRejectAfterMessages - 2);
  const auto initiations = a.get(a.counters->initiations_sent);
  // The last usable counter still goes out and is accepted.
  const auto last = seal_from(a, inner_packet(10, 1));
  ASSERT_TRUE(last);
  EXPECT_EQ(last->counter, kRejectAfterMessages - 2);
  EXPECT_EQ(deliver(b, last->bytes, kAddrA), Result::Committed);
  // Then no more.
  EXPECT_FALSE(reserve(a, 1));
  EXPECT_EQ(a.dropped(DropReason::NoSession), 1u);
  EXPECT_EQ(a.get(a.counters->initiations_sent), initiations + 1);
  EXPECT_EQ(a.peer->reserve_send(0, now(a)).value().first_counter, kRejectAfterMessages - 1);  // the next one
  exchange();
  const auto fresh = seal_from(a, inner_packet(10, 2));
  ASSERT_TRUE(fresh);
  EXPECT_NE(fresh->session, old);
  EXPECT_LT(fresh->counter, 10u);
  EXPECT_EQ(deliver(b, fresh->bytes, kAddrA), Result::Committed);
}

TEST_F(PeerTest, BatchReservationRespectsExhaustion) {
  passive_pair();
  establish();
  const auto t = a.peer->reserve_send(1, now(a));
  ASSERT_TRUE(t);
  skip_counters(a, *t, kRejectAfterMessages - 10);
  EXPECT_FALSE(reserve(a, 10));
  EXPECT_EQ(a.dropped(DropReason::NoSession), 10u);
  // Every counter a batch reserves is below the limit.
  passive_pair();
  establish();
  const auto u = a.peer->reserve_send(1, now(a));
  ASSERT_TRUE(u);
  skip_counters(a, *u, kRejectAfterMessages - 11);
  const auto batch = a.peer->reserve_send(10, now(a));
  ASSERT_TRUE(batch);
  EXPECT_LT(batch->first_counter + 9, kRejectAfterMessages);
}

TEST_F(PeerTest, RekeyAfterMessages) {
  passive_pair();
  establish();
  const auto t = a.peer->reserve_send(1, now(a));
  ASSERT_TRUE(t);
  skip_counters(a, *t, kRekeyAfterMessages);
  const auto initiations = a.get(a.counters->initiations_sent);
  EXPECT_TRUE(a.peer->reserve_send(1, now(a)));  // still usable...
  EXPECT_EQ(a.get(a.counters->initiations_sent), initiations + 1);  // ...but renewing
}

// --- Silence towards the unauthenticated -------------------------------------------------------

TEST_F(PeerTest, WrongKeyPeerGetsNoAnswer) {
  a.psk = psk_of(2);
  passive_pair();
  start_both();
  exchange();
  run_for(10s);  // A retries
  EXPECT_GE(a.get(a.counters->initiations_sent), 5u);
  EXPECT_EQ(sent_by("B"), 0u);
  EXPECT_GE(b.dropped(DropReason::BadMac), 5u);
  EXPECT_FALSE(b.peer->has_session());
  EXPECT_FALSE(b.peer->endpoint());
  EXPECT_FALSE(a.peer->has_session());
  EXPECT_EQ(b.get(b.counters->responses_sent), 0u);
  // Even with fixed endpoints on both sides.
  wire.clear();
  static_pair();
  start_both();
  exchange();
  EXPECT_FALSE(a.peer->has_session());
  EXPECT_FALSE(b.peer->has_session());
  EXPECT_EQ(a.get(a.counters->responses_sent), 0u);
  EXPECT_EQ(b.get(b.counters->responses_sent), 0u);
  EXPECT_EQ(sent_by_of_type("A", MessageType::Response).size(), 0u);
  EXPECT_EQ(sent_by_of_type("B", MessageType::Response).size(), 0u);
}

TEST_F(PeerTest, WrongKeyDataGetsNoAnswer) {
  passive_pair();
  establish();
  // A stranger who knows the index and a fresh counter but not the key.
  const auto genuine = seal_from(a, inner_packet(10, 1));
  ASSERT_TRUE(genuine);
  HandshakeCrypto stranger(psk_of(3));
  Session fake(genuine->session->local_index, genuine->session->remote_index,
               stranger.derive_session_keys({}, {}, Role::Initiator), Role::Initiator, mono);
  Bytes forged(kDataOverhead + 10);
  crypto::AeadContext aead;
  ASSERT_EQ(seal_packet(aead, fake, 1000, inner_packet(10, 1), forged), forged.size());
  mono += 3s;
  EXPECT_EQ(deliver(b, forged, kElsewhere), Result::Rejected);
  EXPECT_EQ(b.dropped(DropReason::BadMac), 1u);
  tick_both();
  EXPECT_TRUE(drain(b).empty());
  EXPECT_EQ(b.peer->endpoint(), kAddrA);
  // The forged counter was not marked: the genuine packet with that counter would pass.
  EXPECT_EQ(deliver(b, genuine->bytes, kAddrA), Result::Committed);
}

TEST_F(PeerTest, GarbageOfEverySizeProducesNothing) {
  std::mt19937_64 rng(42);
  for (bool established : {false, true}) {
    passive_pair();
    if (established) establish();
    drain(a);
    drain(b);
    const bool a_session = a.peer->has_session();
    const bool b_session = b.peer->has_session();
    const auto b_endpoint = b.peer->endpoint();
    for (std::size_t size = 0; size <= 200; ++size) {
      for (int variant = 0; variant < 4; ++variant) {
        Bytes g(size);
        for (auto& byte : g) byte = static_cast<std::uint8_t>(rng());
        if (variant > 0 && size >= 4) {
          g[0] = static_cast<std::uint8_t>(variant);  // a plausible type, zero reserved
          g[1] = g[2] = g[3] = 0;
        }
        for (Node* n : {&a, &b}) {
          for (const base::Endpoint& from : {kAddrA, kAddrB, kElsewhere}) {
            const Result r = deliver(*n, g, from);
            ASSERT_NE(r, Result::Committed) << size;
            ASSERT_FALSE(n->peer->pop_outgoing()) << n->name << " size " << size << " variant " << variant;
          }
        }
      }
    }
    EXPECT_EQ(a.peer->has_session(), a_session);
    EXPECT_EQ(b.peer->has_session(), b_session);
    EXPECT_EQ(b.peer->endpoint(), b_endpoint);
    EXPECT_TRUE(a.inbox.empty() && b.inbox.empty());
    EXPECT_GT(b.dropped(DropReason::Malformed), 0u);
    EXPECT_GT(b.dropped(DropReason::BadMac), 0u);
    EXPECT_GT(b.dropped(DropReason::UnknownSession), 0u);
    if (established) {
      EXPECT_EQ(send(a, inner_packet(10, 1)), Result::Committed);
      EXPECT_EQ(send(b, inner_packet(10, 2)), Result::Committed);
    }
  }
}

TEST_F(PeerTest, HandshakeFloodIsRateLimited) {
  passive_pair();
  HandshakeCrypto crypto(psk_of(1));
  std::uint64_t ts = now(a).wall_ns;
  // 200 from one address, then 200 from as many: each address gets its share, all of them
  // together the whole budget.
  int answered = 0;
  for (int i = 0; i < 400; ++i) {
    Random r{};
    r[0] = static_cast<std::uint8_t>(i);
    r[1] = static_cast<std::uint8_t>(i >> 8);
    r[2] = 0xff;  // never all zero
    const InitiationBytes m = encode(crypto.make_initiation(1000 + i, r, ++ts));
    const auto source = static_cast<std::uint16_t>(std::max(i - 199, 0));
    deliver(b, m, base::Endpoint::v4({198, 18, 0, 1}, static_cast<std::uint16_t>(7778 + source)));
    answered += static_cast<int>(drain(b).size());
    if (i == 199) {
      EXPECT_EQ(answered, static_cast<int>(kHandshakesPerSource));
    }
  }
  EXPECT_EQ(answered, static_cast<int>(kHandshakesPerSecond));
  EXPECT_EQ(b.dropped(DropReason::RateLimited), 400u - kHandshakesPerSecond);
  mono += 1s;
  Random r{};
  r.fill(0x77);
  const InitiationBytes m = encode(crypto.make_initiation(7, r, ++ts));
  deliver(b, m, kAddrA);
  EXPECT_EQ(drain(b).size(), 1u);
}

}  // namespace
}  // namespace squtun::protocol

namespace squtun::protocol {
namespace {

class PeerClockStepTest : public PeerTest {
 protected:
  // A restarts with its wall clock 20 s earlier than when it last initiated: NTP
  // stepped it back. B remembers A's last timestamp.
  bool restarted_a_with_clock_stepped_back() {
    a.wall_offset_ns = std::chrono::nanoseconds(20s).count();
    establish();
    mono += 5s;
    a.wall_offset_ns = 0;
    a.boot(3);
    a.peer->start(now(a));
    exchange();
    return a.peer->has_session();
  }
};

TEST_F(PeerClockStepTest, WithClockSkewCheckARestartedPeerWithAnEarlierClockIsAccepted) {
  passive_pair();
  a.config.max_clock_skew = 30s;
  b.config.max_clock_skew = 30s;
  b.boot(2);
  EXPECT_TRUE(restarted_a_with_clock_stepped_back());
  EXPECT_EQ(b.dropped(DropReason::Replay), 0u);
  EXPECT_EQ(send(a, inner_packet(20, 1)), Result::Committed);
}

// Its new instance tag makes it another sender, not held to the old one's timestamps.
TEST_F(PeerClockStepTest, WithoutClockSkewCheckARestartedPeerWithAnEarlierClockIsAcceptedToo) {
  passive_pair();
  EXPECT_TRUE(restarted_a_with_clock_stepped_back());
  EXPECT_EQ(b.dropped(DropReason::Replay), 0u);
}

TEST_F(PeerClockStepTest, WithClockSkewCheckAReplayedInitiationIsRefused) {
  passive_pair();
  b.config.max_clock_skew = 30s;
  b.boot(2);
  a.peer->start(now(a));
  const auto initiation = drain(a);
  ASSERT_EQ(initiation.size(), 1u);
  deliver(b, initiation[0].message(), kAddrA);
  EXPECT_EQ(drain(b).size(), 1u);
  mono += 1s;
  deliver(b, initiation[0].message(), kAddrA);
  EXPECT_TRUE(drain(b).empty());
  EXPECT_EQ(b.dropped(DropReason::Replay), 1u);
}

}  // namespace
}  // namespace squtun::protocol

namespace squtun::protocol {
namespace {

// The tie-break must not let an end ignore its peer for ever: once its own first
// initiation of an attempt went unanswered (the peer may be refusing it), it answers the
// peer's, whichever random is larger.
TEST_F(PeerTest, UnansweredInitiatorAnswersItsPeerWhateverTheTieBreak) {
  for (const auto& [seed_a, seed_b] : {std::pair{1, 2}, {2, 1}, {3, 4}, {4, 3}, {5, 6}, {6, 5}}) {
    a.config.fixed_endpoint = kAddrB;
    b.config.fixed_endpoint = kAddrA;
    a.boot(static_cast<std::uint64_t>(seed_a));
    b.boot(static_cast<std::uint64_t>(seed_b));
    a.peer->start(now(a));
    ASSERT_EQ(drain(a).size(), 1u);  // lost on the way
    mono += kRekeyTimeout;
    a.peer->tick(now(a));
    ASSERT_EQ(drain(a).size(), 1u);  // the retry, lost too
    b.peer->start(now(b));
    const auto from_b = drain(b);
    ASSERT_EQ(from_b.size(), 1u);
    deliver(a, from_b[0].message(), kAddrB);
    const auto answer = drain(a);
    ASSERT_EQ(answer.size(), 1u) << "seeds " << seed_a << "," << seed_b;
    EXPECT_EQ(classify(answer[0].message()), MessageType::Response);
  }
}

// --- Two keys (--next-key) ---------------------------------------------------------------

TEST_F(PeerTest, BothEndsWithTheNextKeyHandshakeUnderIt) {
  a.next_psk = psk_of(9);
  b.next_psk = psk_of(9);
  static_pair();
  establish();
  const std::string next = crypto::key_fingerprint(psk_of(9));
  EXPECT_EQ(a.peer->session_key_fingerprint(), next);
  EXPECT_EQ(b.peer->session_key_fingerprint(), next);
  EXPECT_EQ(a.get(a.counters->initiations_sent) + b.get(b.counters->initiations_sent), 2u);
}

TEST_F(PeerTest, AnEndWithoutTheNextKeyIsReachedUnderTheOldOneAfterOneUnansweredTry) {
  a.next_psk = psk_of(9);  // B lacks it: A's first initiation goes unanswered
  passive_pair();
  start_both();
  exchange();
  EXPECT_FALSE(a.peer->has_session());
  EXPECT_EQ(b.dropped(DropReason::BadMac), 1u);
  run_for(kRekeyTimeout + kTimerGranularity);
  ASSERT_TRUE(a.peer->has_session());
  EXPECT_EQ(a.peer->session_key_fingerprint(), crypto::key_fingerprint(psk_of(1)));
  EXPECT_EQ(send(a, inner_packet(100, 1)), Result::Committed);
  EXPECT_EQ(b.peer->session_key_fingerprint(), crypto::key_fingerprint(psk_of(1)));
}

TEST_F(PeerTest, NewKeysStartAHandshakeWhileTheSessionInUseCarriesData) {
  passive_pair();
  establish();
  const crypto::Key next = psk_of(9);
  b.peer->set_keys(psk_of(1), &next, now(b));  // B first: A does not have it yet
  drain(b);  // B is passive and knows A: its initiation under the new key is lost on A
  a.peer->set_keys(psk_of(1), &next, now(a));
  EXPECT_EQ(send(a, inner_packet(100, 2)), Result::Committed);  // the old session, meanwhile
  exchange();
  EXPECT_EQ(a.peer->session_key_fingerprint(), crypto::key_fingerprint(next));
  EXPECT_EQ(send(a, inner_packet(100, 3)), Result::Committed);
  EXPECT_EQ(send(b, inner_packet(100, 4)), Result::Committed);
  EXPECT_EQ(b.peer->session_key_fingerprint(), crypto::key_fingerprint(next));
}

}  // namespace
}  // namespace squtun::protocol

namespace squtun::protocol {
namespace {

// Initiations of one sender process that nobody received: its instance tag, timestamps
// `step` apart from `first_ns` on.
std::vector<InitiationBytes> recorded_initiations(std::size_t count, std::uint8_t tag,
                                                  std::uint64_t first_ns, Duration step) {
  HandshakeCrypto crypto(psk_of(1));
  std::vector<InitiationBytes> out;
  for (std::size_t i = 0; i < count; ++i) {
    Random r{};
    r.fill(tag);
    r[kInstanceTagSize] = static_cast<std::uint8_t>(i);
    r[kInstanceTagSize + 1] = static_cast<std::uint8_t>(i >> 8);
    const auto ts = first_ns + i * static_cast<std::uint64_t>(step.count());
    out.push_back(encode(crypto.make_initiation(static_cast<std::uint32_t>(5000 + i), r, ts)));
  }
  return out;
}

TEST_F(PeerTest, RecordedInitiationsReplayedInCyclesAreAnsweredAtMostOnce) {
  passive_pair();
  a.config.max_clock_skew = b.config.max_clock_skew = 3600s;
  a.boot(1);
  b.boot(2);
  // 10000 initiations of one sender over the last 1000 s, as an outage's retries would be.
  const auto recorded = recorded_initiations(10000, 0x5a, now(b).wall_ns - 1'000'000'000'000ULL, 100ms);
  establish();
  std::size_t next = 0, lost = 0;
  std::map<std::uint32_t, int> answers;
  // Three cycles at 200 a second, from another address, while both ends keep talking and
  // A rekeys (at 120 s) under the replay.
  run_for(150s, [&] {
    for (int i = 0; i < 50; ++i) {
      deliver(b, recorded[next++ % recorded.size()], kElsewhere);
      for (const auto& out : drain(b)) {
        if (const auto r = decode_response(out.message())) ++answers[r->receiver_index];
      }
    }
    lost += send(a, inner_packet(10, 1)) != Result::Committed;
    lost += send(b, inner_packet(10, 2)) != Result::Committed;
  });
  EXPECT_GE(b.get(b.counters->handshakes_completed), 2u);
  EXPECT_EQ(lost, 0u);
  for (const auto& [index, count] : answers) ASSERT_LE(count, 1) << "initiation " << index;
}

// More sender processes than are remembered, one initiation each (a peer restarted many
// times): the forgotten ones stay refused, and a new process is still accepted.
TEST_F(PeerTest, InitiationsOfManySenderProcessesAreAnsweredAtMostOnce) {
  passive_pair();
  b.config.max_clock_skew = 3600s;
  b.boot(2);
  std::vector<InitiationBytes> recorded;
  for (std::uint8_t tag = 1; tag <= 200; ++tag) {  // more than the 128 randoms once remembered
    const auto ts = now(b).wall_ns - 1'000'000'000'000ULL + tag * 1'000'000'000ULL;
    recorded.push_back(recorded_initiations(1, tag, ts, 1s)[0]);
  }
  std::size_t answered = 0;
  for (int cycle = 0; cycle < 3; ++cycle) {
    for (const auto& m : recorded) {
      mono += 1s;  // within every budget
      deliver(b, m, kElsewhere);
      answered += drain(b).size();
    }
  }
  EXPECT_EQ(answered, recorded.size());
  establish();
}

TEST_F(PeerTest, WithClockSkewCheckAWithheldOlderInitiationIsRefused) {
  passive_pair();
  b.config.max_clock_skew = 3600s;
  b.boot(2);
  const auto recorded = recorded_initiations(2, 0x5a, now(b).wall_ns - 60'000'000'000ULL, 2s);
  deliver(b, recorded[1], kElsewhere);
  EXPECT_EQ(drain(b).size(), 1u);
  deliver(b, recorded[0], kElsewhere);
  EXPECT_TRUE(drain(b).empty());
  EXPECT_EQ(b.dropped(DropReason::Replay), 1u);
}

TEST_F(PeerTest, AReplayWithinOneRoundTripOfAGenuineHandshakeCostsTheInitiatorNothing) {
  passive_pair();
  establish();
  mono += kRekeyAfterTime;
  // Never seen by B, stamped a minute ahead: fresh to B however it checks.
  const auto recorded = recorded_initiations(1, 0x5a, now(b).wall_ns + 60'000'000'000ULL, 1s);
  ASSERT_EQ(send(a, inner_packet(10, 1)), Result::Committed);  // starts A's rekey
  const auto init = drain(a);
  ASSERT_EQ(init.size(), 1u);
  deliver(b, init[0].message(), kAddrA);
  const auto response = drain(b);
  ASSERT_EQ(response.size(), 1u);
  deliver(b, recorded[0], kElsewhere);  // while B's response is on its way
  EXPECT_EQ(drain(b).size(), 1u);
  deliver(a, response[0].message(), kAddrB);
  exchange();  // A's confirming keepalive
  EXPECT_EQ(b.dropped(DropReason::UnknownSession), 0u);
  EXPECT_EQ(send(a, inner_packet(10, 2)), Result::Committed);
  EXPECT_EQ(send(b, inner_packet(10, 3)), Result::Committed);
}

TEST_F(PeerTest, AFarFutureInitiationAfterARestartDoesNotLockThePeerOut) {
  for (const Duration ahead : {Duration(365 * 24h), Duration(5min)}) {
    SCOPED_TRACE(ahead.count());
    passive_pair();
    establish();
    const auto recorded =
        recorded_initiations(1, 0x5a, now(b).wall_ns + static_cast<std::uint64_t>(ahead.count()), 1s);
    b.boot(3);  // B restarts
    deliver(b, recorded[0], kElsewhere);
    drain(b);
    std::size_t committed = 0;
    run_for(15s, [&] { committed += send(a, inner_packet(10, 1)) == Result::Committed; });
    EXPECT_GE(committed, 10u);
    EXPECT_EQ(b.dropped(DropReason::Replay), 0u);
  }
}

TEST_F(PeerTest, RoamingOnlyOnACounterAboveTheHighestSeen) {
  passive_pair();
  establish();
  const auto lost_on_the_way = seal_from(a, inner_packet(10, 1));
  ASSERT_TRUE(lost_on_the_way);
  ASSERT_EQ(send(a, inner_packet(10, 2)), Result::Committed);
  // An observer injects the lost packet from elsewhere: delivered, but B stays.
  EXPECT_EQ(deliver(b, lost_on_the_way->bytes, kElsewhere), Result::Committed);
  EXPECT_EQ(b.peer->endpoint(), kAddrA);
}

TEST_F(PeerTest, ANewDnsAnswerCarriesDataOnlyOnceAHandshakeWithItCompleted) {
  const base::Endpoint moved = base::Endpoint::v4({198, 18, 0, 9}, 7778);
  static_pair();
  establish();
  EXPECT_TRUE(b.peer->set_fixed_endpoint(moved, now(b)));
  // The live session still goes to and comes from A's old address.
  EXPECT_EQ(b.peer->endpoint(), kAddrA);
  EXPECT_EQ(send(b, inner_packet(10, 1)), Result::Committed);
  EXPECT_EQ(send(a, inner_packet(10, 2)), Result::Committed);
  // A really moved: B's next handshake goes to the new address and moves the session there.
  a.addr = moved;
  mono += kResponderRekeyAfterTime;
  EXPECT_EQ(send(b, inner_packet(10, 3)), Result::Lost);
  exchange();
  EXPECT_EQ(b.peer->endpoint(), moved);
  EXPECT_EQ(send(b, inner_packet(10, 4)), Result::Committed);
}

TEST_F(PeerTest, AFloodFromOtherSourcesDoesNotStarveTheTrustedAddress) {
  passive_pair();
  establish();
  mono += kRekeyAfterTime;
  ASSERT_EQ(send(a, inner_packet(10, 1)), Result::Committed);  // starts A's rekey
  const auto init = drain(a);
  ASSERT_EQ(init.size(), 1u);
  Bytes junk(kInitiationSize, 0x01);
  junk[1] = junk[2] = junk[3] = 0;
  for (std::uint16_t i = 0; i < 30000; ++i) {
    junk[8] = static_cast<std::uint8_t>(i);
    deliver(b, junk, base::Endpoint::v4({198, 19, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)}, 1024 + i));
  }
  deliver(b, init[0].message(), kAddrA);
  EXPECT_EQ(drain(b).size(), 1u);
}

}  // namespace
}  // namespace squtun::protocol
