#include "netlink/route_socket.h"

#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <system_error>

namespace squtun::netlink {
namespace {

unsigned char family_of(const base::Endpoint& address) {
  return address.family == base::Endpoint::Family::V4 ? AF_INET : AF_INET6;
}

unsigned address_size(const base::Endpoint& address) {
  return address.family == base::Endpoint::Family::V4 ? 4 : 16;
}

// A request the kernel acknowledges, and its fixed header T (zeroed).
template <typename T>
T* put_request(std::vector<char>& buffer, nlmsghdr*& request, std::uint16_t type,
               std::uint16_t flags = 0) {
  request = mnl_nlmsg_put_header(buffer.data());
  request->nlmsg_type = type;
  request->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  return static_cast<T*>(mnl_nlmsg_put_extra_header(request, sizeof(T)));
}

std::optional<std::uint32_t> u32_of(const nlattr* attribute) {
  if (mnl_attr_validate(attribute, MNL_TYPE_U32) < 0) return std::nullopt;
  return mnl_attr_get_u32(attribute);
}

int on_route_metric(const nlattr* attribute, void* answer) {
  if (mnl_attr_get_type(attribute) == RTAX_MTU)
    static_cast<Path*>(answer)->route_mtu = u32_of(attribute);
  return MNL_CB_OK;
}

int on_route_attribute(const nlattr* attribute, void* answer) {
  if (mnl_attr_get_type(attribute) == RTA_OIF)
    static_cast<Path*>(answer)->device_index = u32_of(attribute).value_or(0);
  if (mnl_attr_get_type(attribute) == RTA_METRICS)
    mnl_attr_parse_nested(attribute, on_route_metric, answer);
  return MNL_CB_OK;
}

int on_link_attribute(const nlattr* attribute, void* answer) {
  auto& path = *static_cast<Path*>(answer);
  if (mnl_attr_get_type(attribute) == IFLA_MTU) path.device_mtu = u32_of(attribute).value_or(0);
  if (mnl_attr_get_type(attribute) == IFLA_IFNAME &&
      mnl_attr_validate(attribute, MNL_TYPE_NUL_STRING) == 0)
    path.device = mnl_attr_get_str(attribute);
  return MNL_CB_OK;
}

std::system_error failure(const char* request) {
  return std::system_error(errno, std::generic_category(), std::string("netlink ") + request);
}

int on_route(const nlmsghdr* answer, void* path) {
  return mnl_attr_parse(answer, sizeof(rtmsg), on_route_attribute, path);
}

int on_link(const nlmsghdr* answer, void* path) {
  return mnl_attr_parse(answer, sizeof(ifinfomsg), on_link_attribute, path);
}

}  // namespace

RouteSocket::RouteSocket()
    : socket_(mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC)), buffer_(MNL_SOCKET_BUFFER_SIZE) {
  if (!socket_ || mnl_socket_bind(socket_.get(), 0, MNL_SOCKET_AUTOPID) < 0)
    throw failure("socket");
}

void RouteSocket::transact(nlmsghdr* request, const char* name, mnl_cb_t on_answer, void* answer) {
  const unsigned sequence = request->nlmsg_seq = ++sequence_;
  if (mnl_socket_sendto(socket_.get(), request, request->nlmsg_len) < 0) throw failure(name);
  for (int status = MNL_CB_OK; status > MNL_CB_STOP;) {
    const ssize_t size = mnl_socket_recvfrom(socket_.get(), buffer_.data(), buffer_.size());
    if (size < 0) throw failure(name);
    status = mnl_cb_run(buffer_.data(), size, sequence, mnl_socket_get_portid(socket_.get()),
                        on_answer, answer);
    if (status == MNL_CB_ERROR) throw failure(name);
  }
}

void RouteSocket::add_address(unsigned ifindex, const Cidr& address) {
  nlmsghdr* request = nullptr;
  auto* header =
      put_request<ifaddrmsg>(buffer_, request, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
  header->ifa_family = family_of(address.address);
  header->ifa_prefixlen = address.prefix;
  header->ifa_index = ifindex;
  mnl_attr_put(request, IFA_LOCAL, address_size(address.address), address.address.address.data());
  mnl_attr_put(request, IFA_ADDRESS, address_size(address.address), address.address.address.data());
  transact(request, "RTM_NEWADDR");
}

void RouteSocket::add_route(unsigned ifindex, const Cidr& network) {
  nlmsghdr* request = nullptr;
  auto* header = put_request<rtmsg>(buffer_, request, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
  header->rtm_family = family_of(network.address);
  header->rtm_dst_len = network.prefix;
  header->rtm_table = RT_TABLE_MAIN;
  header->rtm_protocol = RTPROT_BOOT;
  header->rtm_type = RTN_UNICAST;
  // As `ip route add NETWORK dev IFNAME`: an IPv4 route without a gateway reaches the link only.
  header->rtm_scope = header->rtm_family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
  if (network.prefix > 0)
    mnl_attr_put(request, RTA_DST, address_size(network.address), network.address.address.data());
  mnl_attr_put_u32(request, RTA_OIF, ifindex);
  transact(request, "RTM_NEWROUTE");
}

void RouteSocket::set_link_up(unsigned ifindex, std::optional<unsigned> mtu) {
  nlmsghdr* request = nullptr;
  auto* header = put_request<ifinfomsg>(buffer_, request, RTM_NEWLINK);
  header->ifi_index = static_cast<int>(ifindex);
  header->ifi_flags = header->ifi_change = IFF_UP;
  if (mtu) mnl_attr_put_u32(request, IFLA_MTU, *mtu);
  transact(request, "RTM_NEWLINK");
}

Path RouteSocket::path_to(const base::Endpoint& destination) {
  nlmsghdr* request = nullptr;
  auto* route = put_request<rtmsg>(buffer_, request, RTM_GETROUTE);
  route->rtm_family = family_of(destination);
  route->rtm_dst_len = address_size(destination) * 8;
  mnl_attr_put(request, RTA_DST, address_size(destination), destination.address.data());
  if (destination.scope_id)
    mnl_attr_put_u32(request, RTA_OIF, destination.scope_id);  // fe80::1%eth0
  Path path;
  transact(request, "RTM_GETROUTE", on_route, &path);
  put_request<ifinfomsg>(buffer_, request, RTM_GETLINK)->ifi_index =
      static_cast<int>(path.device_index);
  transact(request, "RTM_GETLINK", on_link, &path);
  return path;
}

}  // namespace squtun::netlink
