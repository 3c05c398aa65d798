#include "net/resolver_process.h"

#include <algorithm>
#include <stdexcept>
#include <string_view>

namespace squtun::net {

// A request is the port in two bytes, then the host name.
ResolverProcess ResolverProcess::spawn(Lookup lookup, const std::function<void()>& in_child) {
  auto serve = [lookup = std::move(lookup)](std::span<const std::uint8_t> request) {
    if (request.size() < 2) throw std::runtime_error("malformed name lookup request");
    const auto port = static_cast<std::uint16_t>(request[0] << 8 | request[1]);
    return bytes_of(lookup(std::string(request.begin() + 2, request.end()), port));
  };
  return ResolverProcess(HelperProcess::spawn("name lookup", std::move(serve), in_child));
}

bool ResolverProcess::request(const std::string& host, std::uint16_t port) {
  std::vector<std::uint8_t> message(2 + host.size());
  message[0] = static_cast<std::uint8_t>(port >> 8);
  message[1] = static_cast<std::uint8_t>(port);
  std::copy(host.begin(), host.end(), message.begin() + 2);
  return helper_.request(message);
}

std::optional<ResolverProcess::Result> ResolverProcess::take_result() {
  auto result = helper_.take_result();
  if (!result) return std::nullopt;
  if (!result->reply) return Result{std::nullopt, result->error};
  const auto endpoint = value_of<base::Endpoint>(*result->reply);
  if (!endpoint) return Result{std::nullopt, "the name lookup helper sent a malformed answer"};
  return Result{endpoint, {}};
}

}  // namespace squtun::net
