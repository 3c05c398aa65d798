#include "protocol/counters.h"

namespace squtun::protocol {
namespace {

using C = Counters;
using enum CounterKind;
using enum DropReason;

// In `squtun show`'s order; the drops in DropReason's.
constexpr CounterDescription kDescriptions[] = {
    {"last_handshake_unix_ns", "when the last handshake completed, in ns since 1970 (0: none)",
     Gauge, &C::last_handshake_unix_ns},
    {"handshakes", "handshakes completed", Counter, &C::handshakes_completed},
    {"initiations_sent", "handshake initiations sent", Counter, &C::initiations_sent},
    {"responses_sent", "handshake responses sent", Counter, &C::responses_sent},
    {"rx_packets", "inner packets received from the peer", Counter, &C::rx_packets},
    {"rx_bytes", "inner bytes received from the peer", Counter, &C::rx_bytes},
    {"tx_packets", "inner packets sent to the peer", Counter, &C::tx_packets},
    {"tx_bytes", "inner bytes sent to the peer", Counter, &C::tx_bytes},
    {"keepalives_sent", "keepalives sent", Counter, &C::keepalives_sent},
    {"keepalives_received", "keepalives received", Counter, &C::keepalives_received},
    // A drop's meaning says why the datagram or packet was dropped.
    {"drop_malformed", "not a well-formed squtun message", Counter, Malformed},
    {"drop_wrong_source", "sender is not the -p/-r peer", Counter, WrongSource},
    {"drop_bad_mac", "handshake MAC or data AEAD tag did not authenticate", Counter, BadMac},
    {"drop_replay", "data counter seen before or behind the window; stale handshake", Counter,
     Replay},
    {"drop_reflected", "our own initiation sent back to us", Counter, Reflected},
    {"drop_clock_skew", "initiation timestamp further from our clock than -c allows", Counter,
     ClockSkew},
    {"drop_unknown_session", "no session or pending handshake has that index", Counter,
     UnknownSession},
    {"drop_expired", "session older than the reject-after time", Counter, Expired},
    {"drop_rate_limited", "over the handshake budget", Counter, RateLimited},
    {"drop_no_session", "outbound packet while no session is up (a handshake is started)", Counter,
     NoSession},
    {"drop_no_peer", "outbound packet while the passive end has not learned its peer", Counter,
     NoPeer},
    {"drop_too_big", "inner packet larger than a datagram can carry", Counter, TooBig},
    {"drop_tun_write", "the TUN device refused a packet", Counter, TunWrite},
    {"drop_tun_read", "a TUN read failed, or its offload headers did not allow cutting it up",
     Counter, TunRead},
    {"drop_udp_send", "the socket refused a datagram", Counter, UdpSend},
};

}  // namespace

std::uint64_t CounterDescription::value(const Counters& counters) const {
  if (const auto* reason = std::get_if<DropReason>(&source)) return counters.dropped(*reason);
  return (counters.*std::get<Counters::Counter Counters::*>(source))
      .load(std::memory_order_relaxed);
}

std::span<const CounterDescription> counter_descriptions() { return kDescriptions; }

}  // namespace squtun::protocol
