#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "protocol/constants.h"
#include "protocol/handshake.h"
#include "protocol/replay_window.h"

namespace squtun::protocol {

// One completed handshake. What the data-path threads seal and open with is immutable
// once made, so they use it outside the Peer's lock; the send counter and the replay
// window are the Peer's alone, changed under its owner's lock.
class Session {
 public:
  Session(std::uint32_t local, std::uint32_t remote, SessionKeys session_keys, Role session_role,
          Duration created_at, std::string psk_fingerprint = {})
      : local_index(local),
        remote_index(remote),
        keys(session_keys),
        role(session_role),
        created(created_at),
        key_fingerprint(std::move(psk_fingerprint)) {}

  const std::uint32_t local_index;   // receivers put this in data headers sent to us
  const std::uint32_t remote_index;  // we put this in data headers we send
  const SessionKeys keys;
  const Role role;
  const Duration created;
  const std::string key_fingerprint;  // of the pre-shared key the handshake used

  bool expired(Duration now) const { return now - created >= kRejectAfterTime; }

 private:
  friend class Peer;
  std::uint64_t next_send_counter_ = 0;
  ReplayWindow replay_;
};

}  // namespace squtun::protocol
