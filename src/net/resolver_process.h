#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>

#include "base/endpoint.h"
#include "base/fd.h"

namespace squtun::net {

// Looks the peer's host name up again, on request, in a helper process forked during
// setup. The daemon then confines itself (--chroot hides /etc/hosts and /etc/resolv.conf,
// the seccomp filter forbids opening files and IP sockets), so getaddrinfo cannot run in
// it; and a slow DNS server must not stall a data path thread. The daemon's side only
// sends and receives small messages on a socket pair, without ever blocking.
//
// The helper does nothing but wait for a request, run the lookup and send the answer. It
// exits when the daemon closes its end or dies (PR_SET_PDEATHSIG).
class ResolverProcess {
 public:
  // Returns the peer's address; throws std::runtime_error with the reason it cannot.
  using Lookup = std::function<base::Endpoint()>;

  struct Result {
    std::optional<base::Endpoint> endpoint;
    std::string error;  // when there is no endpoint
  };

  // Forks the helper; call while the process has a single thread. `in_child` runs first
  // in the helper (e.g. to drop privileges); if it throws, the helper exits and every
  // later request fails with its message. Throws std::runtime_error if the fork fails.
  static ResolverProcess spawn(Lookup lookup, const std::function<void()>& in_child = {});

  ResolverProcess(ResolverProcess&& other) noexcept;
  ResolverProcess& operator=(ResolverProcess&& other) noexcept;
  ResolverProcess(const ResolverProcess&) = delete;
  ResolverProcess& operator=(const ResolverProcess&) = delete;
  // Closes the socket so the helper exits, and reaps it if it does so promptly.
  ~ResolverProcess();

  // Readable when an answer is waiting (for poll).
  int fd() const { return socket_.get(); }
  pid_t pid() const { return pid_; }
  // True while a request has not been answered yet.
  bool busy() const { return busy_; }
  // True once the helper is found to have exited: stop polling fd(), it stays readable.
  bool gone() const { return gone_; }

  // Asks for a lookup. False (and no second request) while one is under way.
  bool request();
  // The answer to the last request, if it has arrived; never blocks. If the helper is
  // gone the result says so.
  std::optional<Result> take_result();

 private:
  ResolverProcess(base::Fd socket, pid_t pid) : socket_(std::move(socket)), pid_(pid) {}
  void finish();

  base::Fd socket_;
  pid_t pid_ = -1;
  bool busy_ = false;
  bool gone_ = false;
};

}  // namespace squtun::net
