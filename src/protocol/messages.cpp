#include "protocol/messages.h"

#include <algorithm>

#include "base/byte_order.h"

namespace squtun::protocol {
namespace {

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
  base::store_le<std::uint32_t>(out.data() + 4, m.sender_index);
  std::copy(m.random.begin(), m.random.end(), out.begin() + 8);
  base::store_be<std::uint64_t>(out.data() + 40, m.timestamp_ns);
  std::copy(m.mac.begin(), m.mac.end(), out.begin() + kInitiationMacOffset);
  return out;
}

ResponseBytes encode(const Response& m) {
  ResponseBytes out{};
  put_type(out.data(), MessageType::Response);
  base::store_le<std::uint32_t>(out.data() + 4, m.sender_index);
  base::store_le<std::uint32_t>(out.data() + 8, m.receiver_index);
  std::copy(m.random.begin(), m.random.end(), out.begin() + 12);
  std::copy(m.mac.begin(), m.mac.end(), out.begin() + kResponseMacOffset);
  return out;
}

DataHeaderBytes encode(const DataHeader& h) {
  DataHeaderBytes out{};
  put_type(out.data(), MessageType::Data);
  base::store_le<std::uint32_t>(out.data() + 4, h.receiver_index);
  base::store_le<std::uint64_t>(out.data() + 8, h.counter);
  return out;
}

std::optional<Initiation> decode_initiation(std::span<const std::uint8_t> d) {
  if (classify(d) != MessageType::Initiation) return std::nullopt;
  Initiation m;
  m.sender_index = base::load_le<std::uint32_t>(d.data() + 4);
  std::copy_n(d.data() + 8, kRandomSize, m.random.begin());
  m.timestamp_ns = base::load_be<std::uint64_t>(d.data() + 40);
  std::copy_n(d.data() + kInitiationMacOffset, crypto::kMacSize, m.mac.begin());
  return m;
}

std::optional<Response> decode_response(std::span<const std::uint8_t> d) {
  if (classify(d) != MessageType::Response) return std::nullopt;
  Response m;
  m.sender_index = base::load_le<std::uint32_t>(d.data() + 4);
  m.receiver_index = base::load_le<std::uint32_t>(d.data() + 8);
  std::copy_n(d.data() + 12, kRandomSize, m.random.begin());
  std::copy_n(d.data() + kResponseMacOffset, crypto::kMacSize, m.mac.begin());
  return m;
}

std::optional<DataHeader> decode_data_header(std::span<const std::uint8_t> d) {
  if (classify(d) != MessageType::Data) return std::nullopt;
  return DataHeader{base::load_le<std::uint32_t>(d.data() + 4),
                    base::load_le<std::uint64_t>(d.data() + 8)};
}

}  // namespace squtun::protocol
