#include "protocol/key_ring.h"

#include <algorithm>

#include "crypto/key_file.h"

namespace squtun::protocol {
namespace {

KeyRing::Key key_of(const crypto::Key& key) {
  return {std::make_shared<HandshakeCrypto>(key), crypto::key_fingerprint(key)};
}

}  // namespace

KeyRing::KeyRing(const crypto::Key& key, const crypto::Key* next_key) { replace(key, next_key); }

bool KeyRing::replace(const crypto::Key& key, const crypto::Key* next_key) {
  std::vector<Key> keys{key_of(key)};
  if (next_key && !(*next_key == key)) keys.push_back(key_of(*next_key));
  const auto held = [this](const Key& k) {
    return std::ranges::any_of(keys_, [&k](const Key& h) { return h.fingerprint == k.fingerprint; });
  };
  // The newest is a key learnt now, else the newest held before, else (at start) the last.
  const std::string newest = keys_.empty() ? std::string() : keys_[newest_].fingerprint;
  std::size_t chosen = keys.size() - 1;
  for (std::size_t i = 0; i < keys.size(); ++i)
    if (keys[i].fingerprint == newest) chosen = i;
  for (std::size_t i = 0; i < keys.size(); ++i)
    if (!held(keys[i])) chosen = i;
  const bool changed = keys.size() != keys_.size() || !std::ranges::all_of(keys, held);
  keys_ = std::move(keys);
  newest_ = chosen;
  return changed;
}

const KeyRing::Key& KeyRing::for_initiation(unsigned attempt) const {
  return keys_[(newest_ + attempt) % keys_.size()];
}

const KeyRing::Key* KeyRing::verifying(const Initiation& m) const {
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    const Key& k = keys_[(newest_ + i) % keys_.size()];
    if (k.crypto->verify(m)) return &k;
  }
  return nullptr;
}

std::optional<std::string> KeyRing::next_key_fingerprint() const {
  if (keys_.size() < 2) return std::nullopt;
  return keys_[1].fingerprint;
}

}  // namespace squtun::protocol
