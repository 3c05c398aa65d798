#pragma once

#include <cstdint>

#include "crypto/aead.h"
#include "crypto/secret.h"
#include "protocol/messages.h"

namespace squtun::protocol {

enum class Role { Initiator, Responder };

// One direction's key each way, as seen from one end.
struct SessionKeys {
  crypto::AeadKey send;
  crypto::AeadKey receive;
};

// The handshake's cryptography, derived once from the pre-shared key. Pure: randoms and
// timestamps come in as arguments.
class HandshakeCrypto {
 public:
  explicit HandshakeCrypto(const crypto::Key& psk);

  Initiation make_initiation(std::uint32_t sender_index, const Random& random,
                             std::uint64_t timestamp_ns) const;
  bool verify(const Initiation& m) const;

  // The response's MAC covers the initiation it answers, binding the two together.
  Response make_response(std::uint32_t sender_index, const Random& random,
                         const Initiation& answered) const;
  bool verify(const Response& m, const Initiation& answered) const;

  SessionKeys derive_session_keys(const Random& initiator_random, const Random& responder_random,
                                  Role role) const;

 private:
  crypto::Mac initiation_mac(const Initiation& m) const;
  crypto::Mac response_mac(const Response& m, const Initiation& answered) const;

  crypto::Key psk_;
  crypto::Key mac_key_;
};

}  // namespace squtun::protocol
