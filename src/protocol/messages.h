#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <variant>

#include "crypto/kdf.h"
#include "protocol/constants.h"

// Encoding and decoding of the three message kinds (docs/PROTOCOL.md). Integers are
// little-endian except the initiation timestamp, which is big-endian so that it compares
// bytewise the way it compares numerically.
namespace squtun::protocol {

enum class MessageType : std::uint8_t { Initiation = 1, Response = 2, Data = 3 };

using Random = std::array<std::uint8_t, kRandomSize>;
using InstanceTag = std::array<std::uint8_t, kInstanceTagSize>;

struct Initiation {
  std::uint32_t sender_index = 0;
  Random random{};
  std::uint64_t timestamp_ns = 0;  // sender's wall clock, ns since the Unix epoch
  crypto::Mac mac{};
};

struct Response {
  std::uint32_t sender_index = 0;
  std::uint32_t receiver_index = 0;
  Random random{};
  crypto::Mac mac{};
};

struct DataHeader {
  std::uint32_t receiver_index = 0;
  std::uint64_t counter = 0;
};

// The sender process's instance tag: the first bytes of an initiation's random.
inline InstanceTag tag_of(const Initiation& m) {
  InstanceTag tag{};
  std::copy_n(m.random.begin(), kInstanceTagSize, tag.begin());
  return tag;
}

using InitiationBytes = std::array<std::uint8_t, kInitiationSize>;
using ResponseBytes = std::array<std::uint8_t, kResponseSize>;
using DataHeaderBytes = std::array<std::uint8_t, kDataHeaderSize>;

using Message = std::variant<Initiation, Response, DataHeader>;

// The type of a datagram whose size fits that type, or nothing (malformed).
std::optional<MessageType> classify(std::span<const std::uint8_t> datagram);
// The message a datagram holds, or nothing if it is malformed.
std::optional<Message> decode(std::span<const std::uint8_t> datagram);

InitiationBytes encode(const Initiation& m);
ResponseBytes encode(const Response& m);
DataHeaderBytes encode(const DataHeader& h);

std::optional<Initiation> decode_initiation(std::span<const std::uint8_t> datagram);
std::optional<Response> decode_response(std::span<const std::uint8_t> datagram);
std::optional<DataHeader> decode_data_header(std::span<const std::uint8_t> datagram);

// The bytes a message's MAC covers: the encoding without its trailing MAC.
inline constexpr std::size_t kInitiationMacOffset = kInitiationSize - crypto::kMacSize;
inline constexpr std::size_t kResponseMacOffset = kResponseSize - crypto::kMacSize;

}  // namespace squtun::protocol
