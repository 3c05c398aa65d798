#include "protocol/messages.h"

#include <algorithm>

#include "base/byte_order.h"

namespace squtun::protocol {
namespace {

enum class Order { Little, Big };

// The fields of a message one after another, in wire order, after its 4-byte type: the
// layouts have no gaps, so the order of the calls is the byte map of docs/PROTOCOL.md.
class FieldWriter {
 public:
  FieldWriter(std::uint8_t* out, MessageType type) : at_(out + 4) {
    out[0] = static_cast<std::uint8_t>(type);
    out[1] = out[2] = out[3] = 0;
  }
  template <typename T>
  FieldWriter& put(T value, Order order = Order::Little) {
    order == Order::Little ? base::store_le<T>(at_, value) : base::store_be<T>(at_, value);
    at_ += sizeof(T);
    return *this;
  }
  template <std::size_t N>
  FieldWriter& put(const std::array<std::uint8_t, N>& bytes) {
    at_ = std::copy(bytes.begin(), bytes.end(), at_);
    return *this;
  }

 private:
  std::uint8_t* at_;
};

// Reads what FieldWriter wrote, in the same order.
class FieldReader {
 public:
  explicit FieldReader(std::span<const std::uint8_t> message) : at_(message.data() + 4) {}
  template <typename T>
  T get(Order order = Order::Little) {
    const T value = order == Order::Little ? base::load_le<T>(at_) : base::load_be<T>(at_);
    at_ += sizeof(T);
    return value;
  }
  template <std::size_t N>
  std::array<std::uint8_t, N> bytes() {
    std::array<std::uint8_t, N> out{};
    std::copy_n(at_, N, out.begin());
    at_ += N;
    return out;
  }

 private:
  const std::uint8_t* at_;
};

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
  FieldWriter(out.data(), MessageType::Initiation)
      .put(m.sender_index).put(m.random).put(m.timestamp_ns, Order::Big).put(m.mac);
  return out;
}

ResponseBytes encode(const Response& m) {
  ResponseBytes out{};
  FieldWriter(out.data(), MessageType::Response)
      .put(m.sender_index).put(m.receiver_index).put(m.random).put(m.mac);
  return out;
}

DataHeaderBytes encode(const DataHeader& h) {
  DataHeaderBytes out{};
  FieldWriter(out.data(), MessageType::Data).put(h.receiver_index).put(h.counter);
  return out;
}

// The members of a braced initializer are evaluated in order, so each reads the next field.
std::optional<Message> decode(std::span<const std::uint8_t> d) {
  const std::optional<MessageType> type = classify(d);
  if (!type) return std::nullopt;
  FieldReader r(d);
  switch (*type) {
    case MessageType::Initiation:
      return Initiation{r.get<std::uint32_t>(), r.bytes<kRandomSize>(),
                        r.get<std::uint64_t>(Order::Big), r.bytes<crypto::kMacSize>()};
    case MessageType::Response:
      return Response{r.get<std::uint32_t>(), r.get<std::uint32_t>(), r.bytes<kRandomSize>(),
                      r.bytes<crypto::kMacSize>()};
    case MessageType::Data:
      return DataHeader{r.get<std::uint32_t>(), r.get<std::uint64_t>()};
  }
  return std::nullopt;
}

std::optional<Initiation> decode_initiation(std::span<const std::uint8_t> d) { return decode_as<Initiation>(d); }
std::optional<Response> decode_response(std::span<const std::uint8_t> d) { return decode_as<Response>(d); }
std::optional<DataHeader> decode_data_header(std::span<const std::uint8_t> d) { return decode_as<DataHeader>(d); }

}  // namespace squtun::protocol
