#pragma once

#include <libmnl/libmnl.h>

#include <optional>
#include <string>
#include <vector>

#include "base/endpoint.h"
#include "base/unique_handle.h"
#include "netlink/cidr.h"

namespace squtun::netlink {

// What carries packets to a destination: the route's device and its MTU, and the route's own
// MTU (set on the route, or a path MTU the kernel learnt) if it has one.
struct Path {
  unsigned device_index = 0;
  std::string device;
  unsigned device_mtu = 0;
  std::optional<unsigned> route_mtu;
};

// A NETLINK_ROUTE socket that sets a device up as `ip` would. Each call waits for the kernel's
// answer; a refusal throws std::system_error with the kernel's errno, its what() naming the
// request ("netlink RTM_NEWADDR: Permission denied").
class RouteSocket {
 public:
  RouteSocket();

  // Gives the device the address, or keeps it if the device has it already.
  void add_address(unsigned ifindex, const Cidr& address);
  // Routes `network` through the device, replacing a route of the main table to it.
  void add_route(unsigned ifindex, const Cidr& network);
  // Sets the MTU, if given, and brings the device up.
  void set_link_up(unsigned ifindex, std::optional<unsigned> mtu);
  Path path_to(const base::Endpoint& destination);

 private:
  // Sends `request` and hands each answer to `on_answer` until the kernel acknowledges it.
  void transact(nlmsghdr* request, const char* name, mnl_cb_t on_answer = nullptr,
                void* answer = nullptr);

  base::UniqueHandle<mnl_socket, mnl_socket_close> socket_;
  std::vector<char> buffer_;
  unsigned sequence_ = 0;
};

}  // namespace squtun::netlink
