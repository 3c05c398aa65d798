#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

// Every number of the wire protocol and its timers; docs/PROTOCOL.md explains each one.
namespace squtun::protocol {

using namespace std::chrono_literals;
using Duration = std::chrono::nanoseconds;

inline constexpr std::size_t kRandomSize = 32;
// An initiation's random starts with a tag fixed for the life of the process.
inline constexpr std::size_t kInstanceTagSize = 8;
inline constexpr std::size_t kTagSize = 16;
inline constexpr std::size_t kDataHeaderSize = 16;
inline constexpr std::size_t kDataOverhead = kDataHeaderSize + kTagSize;
inline constexpr std::size_t kInitiationSize = 64;
inline constexpr std::size_t kResponseSize = 60;
// The largest inner packet: an IP packet cannot exceed 65535 bytes, nor can a UDP
// payload carry more than 65535 - 8 - 20 - kDataOverhead bytes over IPv4.
inline constexpr std::size_t kMaxInnerPacket = 65535 - 8 - 20 - kDataOverhead;

// Sessions: rekey well before a key wears out, and stop using it soon after.
inline constexpr Duration kRekeyAfterTime = 120s;
// The responder waits a little longer so both ends rarely start a rekey at once.
inline constexpr Duration kResponderRekeyAfterTime = 130s;
inline constexpr Duration kRejectAfterTime = 180s;
inline constexpr std::uint64_t kRekeyAfterMessages = 1ULL << 60;
inline constexpr std::uint64_t kRejectAfterMessages = ~0ULL - (1ULL << 13);

// Handshakes: retry an unanswered initiation, and give up after a while until there is
// traffic again.
inline constexpr Duration kRekeyTimeout = 2s;
inline constexpr Duration kRekeyAttemptTime = 90s;
// Every this many unanswered initiations in a row (one per kRekeyTimeout, so every 6 s)
// the Peer reports that the peer may have moved, and a daemon that knows the peer by a
// host name looks it up again (dynamic DNS).
inline constexpr unsigned kUnansweredInitiationsBeforeLookup = 3;

// Liveness: a keepalive answers data that got no reply, so a peer that sent data and heard
// nothing for kNewHandshakeTimeout knows the session is gone (e.g. we restarted).
inline constexpr Duration kPassiveKeepaliveTimeout = 2s;
inline constexpr Duration kNewHandshakeTimeout = 5s;

// Checking a MAC is cheap but not free: this bounds what a flood of forged handshake
// messages costs. Of the initiations that pass every check, at most kHandshakesPerSecond
// are answered (each costs two HKDF derivations and a response); one source address gets its
// share of each, and the address that last authenticated as much again in reserve.
inline constexpr unsigned kMacChecksPerSecond = 20000;
inline constexpr unsigned kMacChecksPerSource = 2000;
inline constexpr unsigned kHandshakesPerSecond = 50;
inline constexpr unsigned kHandshakesPerSource = 10;

// How far ahead of our wall clock an initiation's timestamp may lie without -c, and how many
// sender processes' newest timestamps are remembered.
inline constexpr Duration kMaxTimestampAhead = 10min;
inline constexpr std::size_t kRememberedSenders = 32;
// Unconfirmed sessions a responder holds at once.
inline constexpr std::size_t kPendingSessions = 3;

// How often the daemon runs the timers; every timer above is a multiple of it.
inline constexpr Duration kTimerGranularity = 250ms;

}  // namespace squtun::protocol
