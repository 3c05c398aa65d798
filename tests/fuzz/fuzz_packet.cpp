// Packet processing: every input is decoded as each message kind, handed to a Peer with
// an established session as a datagram from an unknown address, and sealed as an inner
// packet, delivered, then delivered again with one byte changed.
//
// Invariants: decoders re-encode what they decoded; nothing unauthenticated commits, moves
// the peer or produces an answer; what is sealed opens to itself exactly once; any change
// to a sealed packet makes it fail.

#include <algorithm>
#include <cstdint>

#include "fuzz_support.h"

namespace {

using namespace squtun;
using namespace squtun::fuzz;
using protocol::Now;

// A (-p, active) and B (passive), after one handshake. Set up once: deterministic.
struct World {
  World()
      : a(protocol::PeerConfig{kAddrB, {}, {}}, 1), b(protocol::PeerConfig{}, 2) {
    a.peer->start(now);
    for (int round = 0; round < 8; ++round) {
      bool moved = false;
      while (auto o = a.peer->pop_outgoing()) {
        deliver(b, o->message(), kAddrA, now);
        moved = true;
      }
      while (auto o = b.peer->pop_outgoing()) {
        deliver(a, o->message(), kAddrB, now);
        moved = true;
      }
      if (!moved) break;
    }
    require(a.peer->has_session() && b.peer->has_session());
    require(b.peer->endpoint() == kAddrA);
  }
  Now now{1000s, 1'700'000'000'000'000'000ULL};
  Node a;
  Node b;
};

World& world() {
  static World w;
  return w;
}

void check_decoders(std::span<const std::uint8_t> in) {
  const auto type = protocol::classify(in);
  if (const auto m = protocol::decode_initiation(in)) {
    require(type == protocol::MessageType::Initiation);
    const auto e = protocol::encode(*m);
    require(std::equal(e.begin(), e.end(), in.begin(), in.end()));
  }
  if (const auto m = protocol::decode_response(in)) {
    require(type == protocol::MessageType::Response);
    const auto e = protocol::encode(*m);
    require(std::equal(e.begin(), e.end(), in.begin(), in.end()));
  }
  if (const auto h = protocol::decode_data_header(in)) {
    require(type == protocol::MessageType::Data);
    require(in.size() >= protocol::kDataOverhead);
    const auto e = protocol::encode(*h);
    require(std::equal(e.begin(), e.end(), in.begin()));
  }
  if (type == protocol::MessageType::Initiation) require(protocol::decode_initiation(in).has_value());
  if (type == protocol::MessageType::Response) require(protocol::decode_response(in).has_value());
  if (type == protocol::MessageType::Data) require(protocol::decode_data_header(in).has_value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  World& w = world();
  const std::span<const std::uint8_t> in(data, size);
  check_decoders(in);

  // 1. The input as a datagram to B, from its peer's address and from elsewhere, and
  //    as a datagram to A (which only accepts B's address).
  const auto rx = w.b.counters.rx_packets.load();
  const auto ka = w.b.counters.keepalives_received.load();
  for (const auto& from : {kAddrA, kElsewhere}) {
    const Delivery d = deliver(w.b, in, from, w.now);
    require(d != Delivery::Committed);  // nobody can forge a ChaCha20-Poly1305 tag
    require(!w.b.peer->pop_outgoing());
  }
  require(deliver(w.a, in, kAddrB, w.now) != Delivery::Committed);
  require(!w.a.peer->pop_outgoing());
  require(w.b.counters.rx_packets.load() == rx && w.b.counters.keepalives_received.load() == ka);
  require(w.b.peer->endpoint() == kAddrA);
  require(w.a.peer->has_session() && w.b.peer->has_session());

  // 2. The input as an inner packet from A to B: opens to itself, exactly once.
  if (size > protocol::kMaxInnerPacket) return 0;
  const auto ticket = w.a.peer->reserve_send(1, w.now);
  require(ticket.has_value());
  require(ticket->to == kAddrB);
  Bytes sealed(size + protocol::kDataOverhead);
  require(protocol::seal_packet(w.a.aead, *ticket->session, ticket->first_counter, in, sealed) ==
          sealed.size());

  // A copy with one byte changed, delivered first: must not open, must not burn the counter.
  if (size >= 2) {
    Bytes bad = sealed;
    bad[(data[0] | (data[1] << 8)) % bad.size()] ^= static_cast<std::uint8_t>(data[1] | 1);
    const Delivery d = deliver(w.b, bad, kAddrA, w.now);
    require(d == Delivery::Dropped || d == Delivery::Rejected);
  }
  Bytes inner;
  require(deliver(w.b, sealed, kAddrA, w.now, &inner) == Delivery::Committed);
  require(std::equal(inner.begin(), inner.end(), in.begin(), in.end()));
  require(deliver(w.b, sealed, kAddrA, w.now) == Delivery::Dropped);  // replay
  // Reflected back to its sender, it does not open.
  require(deliver(w.a, sealed, kAddrB, w.now) != Delivery::Committed);
  require(!w.a.peer->pop_outgoing() && !w.b.peer->pop_outgoing());
  return 0;
}
