#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/secret.h"
#include "protocol/handshake.h"

namespace squtun::protocol {

// The pre-shared keys a Peer accepts: the -k key and, while the key changes, the --next-key
// key. A responder tries each in turn, so a second key costs one more MAC check per
// initiation. An initiator offers the newest key first (the one it learnt last) and the
// other when that goes unanswered, so handshakes move to a new key as soon as both ends
// hold it, and keep to the old one until then.
class KeyRing {
 public:
  struct Key {
    std::shared_ptr<HandshakeCrypto> crypto;
    std::string fingerprint;  // crypto::key_fingerprint: names the key, reveals nothing
  };

  KeyRing(const crypto::Key& key, const crypto::Key* next_key);

  // Holds these keys from now on; one not held before becomes the newest. Returns whether
  // the keys changed.
  bool replace(const crypto::Key& key, const crypto::Key* next_key);

  // The key for the `attempt`-th initiation (0 first) of a handshake: newest first, then
  // the keys in turn.
  const Key& for_initiation(unsigned attempt) const;
  // The key under which `m` is authentic, or nullptr.
  const Key* verifying(const Initiation& m) const;

  const std::string& key_fingerprint() const { return keys_[0].fingerprint; }
  std::optional<std::string> next_key_fingerprint() const;

 private:
  std::vector<Key> keys_;  // the -k key, then the --next-key key if any
  std::size_t newest_ = 0;
};

}  // namespace squtun::protocol
