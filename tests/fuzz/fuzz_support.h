#pragma once

// Shared pieces of the libFuzzer targets: a deterministic Peer with its surroundings, the
// daemon's receive sequence (receive, open, commit), and a byte reader for fuzz input.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "crypto/aead.h"
#include "protocol/data_packet.h"
#include "protocol/messages.h"
#include "protocol/peer.h"

namespace squtun::fuzz {

using namespace std::chrono_literals;
using Bytes = std::vector<std::uint8_t>;

// A broken invariant: crash so libFuzzer keeps the input.
[[noreturn]] inline void violated() { __builtin_trap(); }
inline void require(bool ok) {
  if (!ok) violated();
}

inline crypto::Key fuzz_psk() {
  crypto::Key key;
  for (std::size_t i = 0; i < key.size(); ++i) key.data()[i] = static_cast<std::uint8_t>(0x40 + i);
  return key;
}

inline const base::Endpoint kAddrA = base::Endpoint::v4({198, 18, 0, 1}, 7778);
inline const base::Endpoint kAddrB = base::Endpoint::v4({198, 18, 0, 2}, 7777);
inline const base::Endpoint kElsewhere = base::Endpoint::v4({198, 18, 0, 3}, 9999);

inline std::uint64_t total_drops(const protocol::Counters& c) {
  std::uint64_t n = 0;
  for (const auto& d : c.drops) n += d.load();
  return n;
}

// One end: a Peer with deterministic randomness.
struct Node {
  Node(protocol::PeerConfig config, std::uint64_t seed) : rng(seed) {
    peer = std::make_unique<protocol::Peer>(
        fuzz_psk(), nullptr, std::move(config), counters,
        [this](std::span<std::uint8_t> out) {
          for (auto& b : out) b = static_cast<std::uint8_t>(rng());
        });
  }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  protocol::Counters counters;
  std::mt19937_64 rng;
  std::unique_ptr<protocol::Peer> peer;
  crypto::AeadContext aead;
};

enum class Delivery { Dropped, Rejected, Replay, Committed };

// What the daemon does with a datagram: receive, and for data open then commit.
inline Delivery deliver(Node& to, std::span<const std::uint8_t> datagram,
                        const base::Endpoint& from, protocol::Now now, Bytes* inner = nullptr) {
  const auto ticket = to.peer->receive(datagram, from, now);
  if (!ticket) return Delivery::Dropped;
  require(protocol::classify(datagram) == protocol::MessageType::Data);
  Bytes buf(datagram.begin(), datagram.end());
  const std::span<std::uint8_t> all(buf);
  const auto size = protocol::open_packet(to.aead, *ticket->session, buf,
                                          all.subspan(protocol::kDataHeaderSize));
  if (!size) {
    to.counters.drop(protocol::DropReason::BadMac);
    return Delivery::Rejected;
  }
  require(*size + protocol::kDataOverhead == datagram.size());
  if (!to.peer->commit_data(*ticket, from, *size, now)) return Delivery::Replay;
  if (inner) inner->assign(buf.begin() + protocol::kDataHeaderSize,
                           buf.begin() + protocol::kDataHeaderSize + *size);
  return Delivery::Committed;
}

// Reads fuzz input; past the end it yields zeros.
class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool done() const { return pos_ >= size_; }
  std::uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::uint16_t u16() { return static_cast<std::uint16_t>(u8() | (u8() << 8)); }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(u8()) << (8 * i);
    return v;
  }
  Bytes bytes(std::size_t n) {
    n = std::min(n, size_ - std::min(pos_, size_));
    Bytes out(data_ + pos_, data_ + pos_ + n);
    pos_ += n;
    return out;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

}  // namespace squtun::fuzz
