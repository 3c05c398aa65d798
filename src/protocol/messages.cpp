#include "protocol/messages.h"

#include <algorithm>

namespace squtun::protocol {
namespace {

void put_u32_le(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

void put_u64_le(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

void put_u64_be(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[7 - i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::uint32_t get_u32_le(const std::uint8_t* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(p[i]) << (8 * i);
  return v;
}

std::uint64_t get_u64_le(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}

std::uint64_t get_u64_be(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

void put_type(std::uint8_t* p, MessageType type) {
  p[0] = static_cast<std::uint8_t>(type);
  p[1] = p[2] = p[3] = 0;
}

}  // namespace

std::optional<MessageType> classify(std::span<const std::uint8_t> datagram) {
  if (datagram.size() < 4 || datagram[1] != 0 || datagram[2] != 0 || datagram[3] != 0) {
    return std::nullopt;
  }
  switch (static_cast<MessageType>(datagram[0])) {
    case MessageType::Initiation:
      if (datagram.size() == kInitiationSize) return MessageType::Initiation;
      break;
    case MessageType::Response:
      if (datagram.size() == kResponseSize) return MessageType::Response;
      break;
    case MessageType::Data:
      if (datagram.size() >= kDataOverhead) return MessageType::Data;
      break;
  }
  return std::nullopt;
}

InitiationBytes encode(const Initiation& m) {
  InitiationBytes out{};
  put_type(out.data(), MessageType::Initiation);
  put_u32_le(out.data() + 4, m.sender_index);
  std::copy(m.random.begin(), m.random.end(), out.begin() + 8);
  put_u64_be(out.data() + 40, m.timestamp_ns);
  std::copy(m.mac.begin(), m.mac.end(), out.begin() + kInitiationMacOffset);
  return out;
}

ResponseBytes encode(const Response& m) {
  ResponseBytes out{};
  put_type(out.data(), MessageType::Response);
  put_u32_le(out.data() + 4, m.sender_index);
  put_u32_le(out.data() + 8, m.receiver_index);
  std::copy(m.random.begin(), m.random.end(), out.begin() + 12);
  std::copy(m.mac.begin(), m.mac.end(), out.begin() + kResponseMacOffset);
  return out;
}

DataHeaderBytes encode(const DataHeader& h) {
  DataHeaderBytes out{};
  put_type(out.data(), MessageType::Data);
  put_u32_le(out.data() + 4, h.receiver_index);
  put_u64_le(out.data() + 8, h.counter);
  return out;
}

std::optional<Initiation> decode_initiation(std::span<const std::uint8_t> d) {
  if (classify(d) != MessageType::Initiation) return std::nullopt;
  Initiation m;
  m.sender_index = get_u32_le(d.data() + 4);
  std::copy_n(d.data() + 8, kRandomSize, m.random.begin());
  m.timestamp_ns = get_u64_be(d.data() + 40);
  std::copy_n(d.data() + kInitiationMacOffset, crypto::kMacSize, m.mac.begin());
  return m;
}

std::optional<Response> decode_response(std::span<const std::uint8_t> d) {
  if (classify(d) != MessageType::Response) return std::nullopt;
  Response m;
  m.sender_index = get_u32_le(d.data() + 4);
  m.receiver_index = get_u32_le(d.data() + 8);
  std::copy_n(d.data() + 12, kRandomSize, m.random.begin());
  std::copy_n(d.data() + kResponseMacOffset, crypto::kMacSize, m.mac.begin());
  return m;
}

std::optional<DataHeader> decode_data_header(std::span<const std::uint8_t> d) {
  if (classify(d) != MessageType::Data) return std::nullopt;
  return DataHeader{get_u32_le(d.data() + 4), get_u64_le(d.data() + 8)};
}

}  // namespace squtun::protocol
