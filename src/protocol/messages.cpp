#include "protocol/messages.h"

#include <algorithm>

#include "base/byte_order.h"

namespace squtun::protocol {
namespace {

void put_type(std::uint8_t* p, MessageType type) {
  p[0] = static_cast<std::uint8_t>(type);
  p[1] = p[2] = p[3] = 0;
}

template <std::size_t N>
std::array<std::uint8_t, N> bytes_at(const std::uint8_t* p) {
  std::array<std::uint8_t, N> out{};
  std::copy_n(p, N, out.begin());
  return out;
}

template <typename M>
std::optional<M> decode_as(std::span<const std::uint8_t> d) {
  const auto message = decode(d);
  if (!message || !std::holds_alternative<M>(*message)) return std::nullopt;
  return std::get<M>(*message);
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

std::optional<Message> decode(std::span<const std::uint8_t> d) {
  switch (classify(d).value_or(MessageType{})) {
    case MessageType::Initiation:
      return Initiation{base::load_le<std::uint32_t>(d.data() + 4), bytes_at<kRandomSize>(d.data() + 8),
                        base::load_be<std::uint64_t>(d.data() + 40), bytes_at<crypto::kMacSize>(d.data() + kInitiationMacOffset)};
    case MessageType::Response:
      return Response{base::load_le<std::uint32_t>(d.data() + 4), base::load_le<std::uint32_t>(d.data() + 8),
                      bytes_at<kRandomSize>(d.data() + 12), bytes_at<crypto::kMacSize>(d.data() + kResponseMacOffset)};
    case MessageType::Data:
      return DataHeader{base::load_le<std::uint32_t>(d.data() + 4), base::load_le<std::uint64_t>(d.data() + 8)};
  }
  return std::nullopt;
}

std::optional<Initiation> decode_initiation(std::span<const std::uint8_t> d) { return decode_as<Initiation>(d); }
std::optional<Response> decode_response(std::span<const std::uint8_t> d) { return decode_as<Response>(d); }
std::optional<DataHeader> decode_data_header(std::span<const std::uint8_t> d) { return decode_as<DataHeader>(d); }

}  // namespace squtun::protocol
