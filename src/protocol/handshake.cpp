#include "protocol/handshake.h"

#include <algorithm>
#include <array>

#include "crypto/kdf.h"

namespace squtun::protocol {
namespace {

constexpr std::string_view kMacLabel = "squtun v1 handshake mac";
constexpr std::string_view kInitiatorToResponderLabel = "squtun v1 initiator to responder";
constexpr std::string_view kResponderToInitiatorLabel = "squtun v1 responder to initiator";

}  // namespace

HandshakeCrypto::HandshakeCrypto(const crypto::Key& psk)
    : psk_(psk), mac_key_(crypto::hkdf_sha256(psk.span(), {}, kMacLabel)) {}

crypto::Mac HandshakeCrypto::initiation_mac(const Initiation& m) {
  const InitiationBytes bytes = encode(m);
  return mac_key_.mac(std::span(bytes).first(kInitiationMacOffset));
}

crypto::Mac HandshakeCrypto::response_mac(const Response& m, const Initiation& answered) {
  const ResponseBytes response = encode(m);
  const InitiationBytes initiation = encode(answered);
  std::array<std::uint8_t, kResponseMacOffset + kInitiationMacOffset> covered{};
  std::copy_n(response.begin(), kResponseMacOffset, covered.begin());
  std::copy_n(initiation.begin(), kInitiationMacOffset, covered.begin() + kResponseMacOffset);
  return mac_key_.mac(covered);
}

Initiation HandshakeCrypto::make_initiation(std::uint32_t sender_index, const Random& random,
                                            std::uint64_t timestamp_ns) {
  Initiation m{sender_index, random, timestamp_ns, {}};
  m.mac = initiation_mac(m);
  return m;
}

bool HandshakeCrypto::verify(const Initiation& m) {
  return crypto::mac_equal(m.mac, initiation_mac(m));
}

Response HandshakeCrypto::make_response(std::uint32_t sender_index, const Random& random,
                                        const Initiation& answered) {
  Response m{sender_index, answered.sender_index, random, {}};
  m.mac = response_mac(m, answered);
  return m;
}

bool HandshakeCrypto::verify(const Response& m, const Initiation& answered) {
  return m.receiver_index == answered.sender_index &&
         crypto::mac_equal(m.mac, response_mac(m, answered));
}

SessionKeys HandshakeCrypto::derive_session_keys(const Random& initiator_random,
                                                 const Random& responder_random,
                                                 Role role) const {
  std::array<std::uint8_t, 2 * kRandomSize> salt{};
  std::copy(initiator_random.begin(), initiator_random.end(), salt.begin());
  std::copy(responder_random.begin(), responder_random.end(), salt.begin() + kRandomSize);
  crypto::Key i2r = crypto::hkdf_sha256(psk_.span(), salt, kInitiatorToResponderLabel);
  crypto::Key r2i = crypto::hkdf_sha256(psk_.span(), salt, kResponderToInitiatorLabel);
  if (role == Role::Initiator) return {i2r, r2i};
  return {r2i, i2r};
}

}  // namespace squtun::protocol
