#pragma once

// Test packets for the offload code, built and checked with a deliberately simple,
// independent implementation (byte-by-byte checksums, explicit offsets), so the tests do
// not share a bug with the code under test.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace squtun::tun::testing {

using Bytes = std::vector<std::uint8_t>;

inline constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10, kUrg = 0x20,
                              kEce = 0x40, kCwr = 0x80;

struct Spec {
  bool v6 = false;
  bool udp = false;
  std::array<std::uint8_t, 16> src{10, 0, 0, 1};
  std::array<std::uint8_t, 16> dst{10, 0, 0, 2};
  std::uint16_t sport = 40000, dport = 443;
  std::uint32_t seq = 1000, ack = 777777;
  std::uint8_t flags = kAck;
  std::uint16_t window = 501;
  std::uint16_t urgent = 0;
  Bytes tcp_options;  // a multiple of 4 bytes
  Bytes ip_options;   // IPv4 only, a multiple of 4 bytes
  std::uint8_t tos = 0, ttl = 64;
  bool df = true;
  bool reserved_flag = false;  // IPv4's reserved ("evil") flag bit
  std::uint16_t id = 100;
  std::uint32_t flow_label = 0x12345;
  std::uint16_t udp_length_override = 0;  // 0: the right length
};

Spec v6_spec(bool udp = false);
Bytes payload_bytes(std::size_t n, std::uint8_t seed = 1);

// Big-endian field helpers.
std::uint16_t get16(std::span<const std::uint8_t> b, std::size_t at);
std::uint32_t get32(std::span<const std::uint8_t> b, std::size_t at);
void put16(std::span<std::uint8_t> b, std::size_t at, std::uint16_t v);

// RFC 1071 one word at a time; returns the complemented checksum.
std::uint16_t ref_checksum(std::span<const std::uint8_t> data, std::uint64_t initial = 0);
std::uint64_t ref_pseudo_sum(std::span<const std::uint8_t> packet, std::size_t l4_length);

// A complete packet with valid checksums; `partial` leaves the pseudo-header sum in the
// L4 checksum field instead (as a CHECKSUM_PARTIAL super-packet from the kernel has it).
Bytes build(const Spec& spec, std::span<const std::uint8_t> payload, bool partial = false);

// Offsets as the tests see them.
std::size_t ip_header_length(std::span<const std::uint8_t> packet);
std::size_t l4_offset(std::span<const std::uint8_t> packet);
std::size_t payload_offset(std::span<const std::uint8_t> packet);
std::uint8_t tcp_flags(std::span<const std::uint8_t> packet);
std::uint32_t tcp_seq(std::span<const std::uint8_t> packet);

// Independent checks of a finished packet: IP lengths agree with its size, IPv4 header
// checksum, TCP/UDP length and full checksum.
bool lengths_ok(std::span<const std::uint8_t> packet);
bool ip_checksum_ok(std::span<const std::uint8_t> packet);
bool l4_checksum_ok(std::span<const std::uint8_t> packet);
inline bool valid(std::span<const std::uint8_t> packet) {
  return lengths_ok(packet) && ip_checksum_ok(packet) && l4_checksum_ok(packet);
}

}  // namespace squtun::tun::testing
