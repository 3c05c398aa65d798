#include "daemon/device_setup.h"

#include <net/if.h>

#include <cerrno>
#include <functional>
#include <system_error>

#include "daemon/log.h"
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
unsigned automatic_mtu(netlink::RouteSocket& netlink, const tun::TunDevice& tun,
                       const base::Endpoint& peer) {
  const std::string route = "mtu auto: the path to " + peer.to_string();
  netlink::Path path;
  apply(route, tun.name(), [&] { path = netlink.path_to(peer); });
  const auto family = peer.family == base::Endpoint::Family::V4 ? protocol::UnderlayFamily::V4
                                                                : protocol::UnderlayFamily::V6;
  const auto payload =
      tun.mode() == tun::Mode::Tap ? protocol::Payload::EthernetFrame : protocol::Payload::IpPacket;
  const auto mtu = protocol::inner_mtu_of_path(path.device_mtu, path.route_mtu, family, payload);
  const std::string measured =
      route + " (" + path.device + " MTU " + std::to_string(path.device_mtu) +
      (path.route_mtu ? ", route MTU " + std::to_string(*path.route_mtu) : "") + ")";
  if (!mtu) throw std::runtime_error(measured + " is too small for a tunnel");
  log_info(measured + " makes it " + std::to_string(*mtu));
  return static_cast<unsigned>(*mtu);
}

}  // namespace

void configure_device(const Settings& s, const tun::TunDevice& tun,
                      const protocol::PeerConfig& peer) {
  if (s.addresses.empty() && s.routes.empty() && !s.device_mtu) return;
  const unsigned ifindex = if_nametoindex(tun.name().c_str());
  netlink::RouteSocket netlink;
  std::optional<unsigned> mtu = s.device_mtu;
  if (mtu == kAutoMtu) mtu = automatic_mtu(netlink, tun, *peer.fixed_endpoint);
  const std::string up = mtu ? "mtu " + std::to_string(*mtu) : tun.name() + " up";
  apply(up, tun.name(), [&] { netlink.set_link_up(ifindex, mtu); });
  for (const auto& address : s.addresses)
    apply("address " + address.to_string(), tun.name(),
          [&] { netlink.add_address(ifindex, address); });
  for (const auto& route : s.routes)
    apply("route " + route.to_string(), tun.name(), [&] { netlink.add_route(ifindex, route); });
  log_info(tun.name() + " is up with " + std::to_string(s.addresses.size()) + " address(es) and " +
           std::to_string(s.routes.size()) + " route(s)");
}

}  // namespace squtun::daemon
