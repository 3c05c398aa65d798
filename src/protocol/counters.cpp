#include "protocol/counters.h"

namespace squtun::protocol {
namespace {

using C = Counters;
using enum DropReason;

// In `squtun show`'s order; the drops in DropReason's.
constexpr CounterDescription kDescriptions[] = {
    {"last_handshake_unix_ns", &C::last_handshake_unix_ns,
     "when the last handshake completed, in ns since 1970 (0: none)", CounterKind::Gauge},
    {"handshakes", &C::handshakes_completed, "handshakes completed"},
    {"initiations_sent", &C::initiations_sent, "handshake initiations sent"},
    {"responses_sent", &C::responses_sent, "handshake responses sent"},
    {"rx_packets", &C::rx_packets, "inner packets received from the peer"},
    {"rx_bytes", &C::rx_bytes, "inner bytes received from the peer"},
    {"tx_packets", &C::tx_packets, "inner packets sent to the peer"},
    {"tx_bytes", &C::tx_bytes, "inner bytes sent to the peer"},
    {"keepalives_sent", &C::keepalives_sent, "keepalives sent"},
    {"keepalives_received", &C::keepalives_received, "keepalives received"},
    // A drop's meaning says why the datagram or packet was dropped.
    {"drop_malformed", Malformed, "not a well-formed squtun message"},
    {"drop_wrong_source", WrongSource, "sender is not the -p/-r peer"},
    {"drop_bad_mac", BadMac, "handshake MAC or data AEAD tag did not authenticate"},
    {"drop_replay", Replay, "data counter seen before or behind the window; stale handshake"},
    {"drop_reflected", Reflected, "our own initiation sent back to us"},
    {"drop_clock_skew", ClockSkew, "initiation timestamp further from our clock than -c allows"},
    {"drop_unknown_session", UnknownSession, "no session or pending handshake has that index"},
    {"drop_expired", Expired, "session older than the reject-after time"},
    {"drop_rate_limited", RateLimited, "over the handshake budget"},
    {"drop_no_session", NoSession, "outbound packet while no session is up (a handshake starts)"},
    {"drop_no_peer", NoPeer, "outbound packet while the passive end has not learned its peer"},
    {"drop_too_big", TooBig, "inner packet larger than a datagram can carry"},
    {"drop_tun_write", TunWrite, "the TUN device refused a packet"},
    {"drop_tun_read", TunRead, "TUN read failed, or offload headers did not allow cutting it up"},
    {"drop_udp_send", UdpSend, "the socket refused a datagram"},
};

}  // namespace

std::uint64_t CounterDescription::value(const Counters& counters) const {
  if (const auto* reason = std::get_if<DropReason>(&source)) return counters.dropped(*reason);
  return (counters.*std::get<Counters::Counter Counters::*>(source))
      .load(std::memory_order_relaxed);
}

std::span<const CounterDescription> counter_descriptions() { return kDescriptions; }

}  // namespace squtun::protocol
