#pragma once

#include <optional>
#include <string>

#include "base/endpoint.h"
#include "daemon/startup.h"
#include "protocol/peer.h"
#include "tun/tun_device.h"

namespace squtun::daemon {

// Sets what Settings give of the device's MTU (bringing it up), addresses and routes through
// netlink, as `ip` would; with none of them, leaves the device alone. mtu auto measures the
// path to `peer`. Needs root or CAP_NET_ADMIN; throws std::runtime_error naming the setting,
// its value and the kernel's reason.
void configure_device(const Settings& s, const std::string& ifname, tun::Mode mode,
                      const std::optional<base::Endpoint>& peer);
// At start-up: the same for the opened device, as root; not root, it leaves the device as
// --setup-device set it up.
void configure_device(const Settings& s, const tun::TunDevice& tun,
                      const protocol::PeerConfig& peer);
// --setup-device: the same for the existing device s.interface, then the process exits.
void setup_existing_device(const Settings& s);

}  // namespace squtun::daemon
