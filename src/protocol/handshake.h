#pragma once

#include <cstdint>

#include "crypto/aead.h"
#include "crypto/kdf.h"
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
// timestamps come in as arguments. Computing a MAC uses one keyed context, so not
// thread-safe: one per user.
class HandshakeCrypto {
 public:
  explicit HandshakeCrypto(const crypto::Key& psk);

  Initiation make_initiation(std::uint32_t sender_index, const Random& random,
                             std::uint64_t timestamp_ns);
  bool verify(const Initiation& m);

  // The response's MAC covers the initiation it answers, binding the two together.
  Response make_response(std::uint32_t sender_index, const Random& random,
                         const Initiation& answered);
  bool verify(const Response& m, const Initiation& answered);

  SessionKeys derive_session_keys(const Random& initiator_random, const Random& responder_random,
                                  Role role) const;

 private:
  crypto::Mac initiation_mac(const Initiation& m);
  crypto::Mac response_mac(const Response& m, const Initiation& answered);

  crypto::Key psk_;
  crypto::MacKey mac_key_;
};

}  // namespace squtun::protocol
