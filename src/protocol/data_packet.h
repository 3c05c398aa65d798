#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "crypto/aead.h"
#include "protocol/session.h"

namespace squtun::protocol {

// Seals an inner packet into a data message: header (authenticated as AAD), ciphertext,
// tag. The plaintext may already sit at out[kDataHeaderSize..] (sealed in place). Returns
// the message size, or 0 if out is too small or OpenSSL failed.
std::size_t seal_packet(crypto::AeadContext& aead, const Session& session, std::uint64_t counter,
                        std::span<const std::uint8_t> plaintext, std::span<std::uint8_t> out);

// Opens a data message with the session's receive key, writing the inner packet to out
// (which may be the message's own bytes from kDataHeaderSize on). Returns the inner
// packet's size, or nothing if the message does not authenticate.
std::optional<std::size_t> open_packet(crypto::AeadContext& aead, const Session& session,
                                       std::span<const std::uint8_t> message,
                                       std::span<std::uint8_t> out);

}  // namespace squtun::protocol
