#include "protocol/data_packet.h"

#include <algorithm>

#include "protocol/messages.h"

namespace squtun::protocol {

std::size_t seal_packet(crypto::AeadContext& aead, const Session& session, std::uint64_t counter,
                        std::span<const std::uint8_t> plaintext, std::span<std::uint8_t> out) {
  const std::size_t total = plaintext.size() + kDataOverhead;
  if (out.size() < total) return 0;
  const DataHeaderBytes header = encode(DataHeader{session.remote_index, counter});
  std::copy(header.begin(), header.end(), out.begin());
  if (!aead.seal(session.keys.send, counter, header, plaintext, out.subspan(kDataHeaderSize))) {
    return 0;
  }
  return total;
}

std::optional<std::size_t> open_packet(crypto::AeadContext& aead, const Session& session,
                                       std::span<const std::uint8_t> message,
                                       std::span<std::uint8_t> out) {
  const auto header = decode_data_header(message);
  if (!header || header->receiver_index != session.local_index) return std::nullopt;
  const auto aad = message.first(kDataHeaderSize);
  const auto ciphertext = message.subspan(kDataHeaderSize);
  if (!aead.open(session.keys.receive, header->counter, aad, ciphertext, out)) return std::nullopt;
  return ciphertext.size() - kTagSize;
}

}  // namespace squtun::protocol
