#pragma once

#include <cstdint>

#include "protocol/constants.h"
#include "protocol/handshake.h"
#include "protocol/replay_window.h"

namespace squtun::protocol {

// The keys and counters of one completed handshake. The key material is immutable once
// made, so data-path threads may seal and open with it while the Peer owns the rest.
struct Session {
  Session(std::uint32_t local, std::uint32_t remote, SessionKeys session_keys, Role session_role,
          Duration created_at)
      : local_index(local),
        remote_index(remote),
        keys(session_keys),
        role(session_role),
        created(created_at) {}

  const std::uint32_t local_index;   // receivers put this in data headers sent to us
  const std::uint32_t remote_index;  // we put this in data headers we send
  const SessionKeys keys;
  const Role role;
  const Duration created;

  // Guarded by the Peer's owner: the next counter to send, and counters seen.
  std::uint64_t next_send_counter = 0;
  ReplayWindow replay;

  bool expired(Duration now) const { return now - created >= kRejectAfterTime; }
};

}  // namespace squtun::protocol
