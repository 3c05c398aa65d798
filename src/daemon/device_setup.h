#pragma once

#include "daemon/startup.h"
#include "protocol/peer.h"
#include "tun/tun_device.h"

namespace squtun::daemon {

// Sets what Settings give of the device's MTU (bringing it up), addresses and routes through
// netlink, as `ip` would; with none of them, leaves the device alone. mtu auto measures the
// path to `peer.fixed_endpoint`. Needs root or CAP_NET_ADMIN; throws std::runtime_error
// naming the setting, its value and the kernel's reason.
void configure_device(const Settings& s, const tun::TunDevice& tun,
                      const protocol::PeerConfig& peer);

}  // namespace squtun::daemon
