#include "daemon/device_setup.h"

#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <system_error>

#include "daemon/log.h"
#include "net/resolve.h"
#include "netlink/route_socket.h"
#include "protocol/mtu.h"

namespace squtun::daemon {
namespace {

// Runs one netlink change; a refusal names the setting ("address 10.99.0.1/30") and says
// what usually causes it.
void apply(const std::string& setting, const std::string& ifname,
           const std::function<void()>& change) {
  try {
    change();
  } catch (const std::system_error& e) {
    std::string hint;
    if (e.code().value() == EPERM)
      hint =
          "; setting addresses, routes and the MTU needs root (CAP_NET_ADMIN): run squtun as root "
          "(with -u USER to drop privileges after setup), or set them outside squtun";
    if (e.code().value() == EACCES)
      hint = "; is IPv6 off on " + ifname + " (sysctl net.ipv6.conf." + ifname + ".disable_ipv6)?";
    throw std::runtime_error(setting + ": " + e.what() + hint);
  }
}

// mtu auto: what -m would print for the MTU of the path to the peer.
unsigned automatic_mtu(netlink::RouteSocket& netlink, const std::string& ifname, tun::Mode mode,
                       const base::Endpoint& peer) {
  const std::string route = "mtu auto: the path to " + peer.to_string();
  netlink::Path path;
  apply(route, ifname, [&] { path = netlink.path_to(peer); });
  const auto family = peer.family == base::Endpoint::Family::V4 ? protocol::UnderlayFamily::V4
                                                                : protocol::UnderlayFamily::V6;
  const auto payload =
      mode == tun::Mode::Tap ? protocol::Payload::EthernetFrame : protocol::Payload::IpPacket;
  const auto mtu = protocol::inner_mtu_of_path(path.device_mtu, path.route_mtu, family, payload);
  const std::string measured =
      route + " (" + path.device + " MTU " + std::to_string(path.device_mtu) +
      (path.route_mtu ? ", route MTU " + std::to_string(*path.route_mtu) : "") + ")";
  if (!mtu) throw std::runtime_error(measured + " is too small for a tunnel");
  log_info(measured + " makes it " + std::to_string(*mtu));
  return static_cast<unsigned>(*mtu);
}

}  // namespace

void configure_device(const Settings& s, const std::string& ifname, tun::Mode mode,
                      const std::optional<base::Endpoint>& peer) {
  if (s.addresses.empty() && s.routes.empty() && !s.device_mtu) return;
  const unsigned ifindex = if_nametoindex(ifname.c_str());
  netlink::RouteSocket netlink;
  std::optional<unsigned> mtu = s.device_mtu;
  if (mtu == kAutoMtu) mtu = automatic_mtu(netlink, ifname, mode, *peer);
  const std::string up = mtu ? "mtu " + std::to_string(*mtu) : ifname + " up";
  apply(up, ifname, [&] { netlink.set_link_up(ifindex, mtu); });
  for (const auto& address : s.addresses)
    apply("address " + address.to_string(), ifname, [&] { netlink.add_address(ifindex, address); });
  for (const auto& route : s.routes)
    apply("route " + route.to_string(), ifname, [&] { netlink.add_route(ifindex, route); });
  log_info(ifname + " is up with " + std::to_string(s.addresses.size()) + " address(es) and " +
           std::to_string(s.routes.size()) + " route(s)");
}

void configure_device(const Settings& s, const tun::TunDevice& tun,
                      const protocol::PeerConfig& peer) {
  // Started unprivileged, e.g. by the systemd unit, whose ExecStartPre ran --setup-device as
  // root with the same settings: the device is as they say, and netlink would refuse anyway.
  if (geteuid() != 0) {
    if (!s.addresses.empty() || !s.routes.empty() || s.device_mtu)
      log_info("not root: " + tun.name() + "'s address, route and mtu settings are left to squtun --setup-device");
    return;
  }
  configure_device(s, tun.name(), tun.mode(), peer.fixed_endpoint);
}

void setup_existing_device(const Settings& s) {
  const auto mode = tun::existing_device_mode(s.interface);
  if (!mode)
    throw std::runtime_error("-i " + s.interface + ": no such TUN or TAP device; create it first, e.g. ip tuntap add dev " +
                             s.interface + " mode tun");
  std::optional<base::Endpoint> peer;
  if (s.device_mtu == kAutoMtu && !(s.peer_host && s.peer_port))
    throw std::runtime_error("mtu auto needs -p HOST and -r PORT, whose path it measures; give a passive end a number");
  if (s.device_mtu == kAutoMtu) peer = net::resolve_endpoint(*s.peer_host, *s.peer_port, base::Endpoint::Family::None);
  configure_device(s, s.interface, *mode, peer);
}

}  // namespace squtun::daemon
