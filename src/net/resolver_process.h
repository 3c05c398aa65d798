#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "base/endpoint.h"
#include "net/helper_process.h"

namespace squtun::net {

// Looks the peer's host name up again, on request, in a helper process (HelperProcess): the
// confined daemon cannot run getaddrinfo, and a slow DNS server must not stall it.
class ResolverProcess {
 public:
  // Returns the address of host:port; throws std::runtime_error with the reason it cannot.
  using Lookup = std::function<base::Endpoint(const std::string& host, std::uint16_t port)>;

  struct Result {
    std::optional<base::Endpoint> endpoint;
    std::string error;  // when there is no endpoint
  };

  // Forks the helper; call while the process has a single thread. `in_child` runs first in
  // the helper (e.g. to drop privileges): see HelperProcess::spawn.
  static ResolverProcess spawn(Lookup lookup, const std::function<void()>& in_child = {});

  int fd() const { return helper_.fd(); }
  pid_t pid() const { return helper_.pid(); }
  bool busy() const { return helper_.busy(); }
  bool gone() const { return helper_.gone(); }

  // Asks for host:port. False (and no second request) while one is under way.
  bool request(const std::string& host, std::uint16_t port);
  // The answer to the last request, if it has arrived; never blocks. If the helper is gone
  // the result says so.
  std::optional<Result> take_result();

 private:
  explicit ResolverProcess(HelperProcess helper) : helper_(std::move(helper)) {}
  HelperProcess helper_;
};

}  // namespace squtun::net
