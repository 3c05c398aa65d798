#pragma once

#include <sys/types.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/fd.h"

namespace squtun::net {

// A helper process forked during setup that does, on request, what the confined daemon no
// longer may: --chroot hides files, the seccomp filter forbids opening files and IP sockets,
// and slow work (a DNS server that does not answer) must not stall a data-path thread. The
// daemon's side only sends and receives small messages on a socket pair, never blocking.
//
// The helper does nothing but wait for a request, run `serve` and send the answer. It exits
// when the daemon closes its end or dies (PR_SET_PDEATHSIG).
class HelperProcess {
 public:
  static constexpr std::size_t kMaxMessage = 4096;
  // Answers one request; runs in the helper. Throws std::runtime_error to answer an error.
  using Serve = std::function<std::vector<std::uint8_t>(std::span<const std::uint8_t> request)>;

  struct Result {
    std::optional<std::vector<std::uint8_t>> reply;
    std::string error;  // when there is no reply
  };

  // Forks the helper; call while the process has a single thread. `in_child` runs first in
  // the helper (e.g. to drop privileges); if it throws, the helper answers every request
  // with its message. `role` names the helper in errors ("name lookup"). Throws
  // std::runtime_error if the fork fails.
  static HelperProcess spawn(std::string role, Serve serve, const std::function<void()>& in_child = {});

  HelperProcess(HelperProcess&& other) noexcept;
  HelperProcess& operator=(HelperProcess&& other) noexcept;
  HelperProcess(const HelperProcess&) = delete;
  HelperProcess& operator=(const HelperProcess&) = delete;
  // Closes the socket so the helper exits, and reaps it if it does so promptly.
  ~HelperProcess();

  // Readable when an answer is waiting (for poll).
  int fd() const { return socket_.get(); }
  pid_t pid() const { return pid_; }
  // True while a request has not been answered yet.
  bool busy() const { return busy_; }
  // True once the helper is found to have exited: stop polling fd(), it stays readable.
  bool gone() const { return gone_; }

  // Sends a request (at most kMaxMessage bytes). False (and no second request) while one is
  // under way, or if the helper is gone.
  bool request(std::span<const std::uint8_t> bytes = {});
  // The answer to the last request, if it has arrived; never blocks. If the helper is gone
  // the result says so.
  std::optional<Result> take_result();

 private:
  HelperProcess(std::string role, base::Fd socket, pid_t pid)
      : role_(std::move(role)), socket_(std::move(socket)), pid_(pid) {}
  void finish();

  std::string role_;
  base::Fd socket_;
  pid_t pid_ = -1;
  bool busy_ = false;
  bool gone_ = false;
};

// The bytes of a trivially copyable value, and the value back from them.
template <typename T>
std::vector<std::uint8_t> bytes_of(const T& value) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(&value);
  return {p, p + sizeof value};
}
template <typename T>
std::optional<T> value_of(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != sizeof(T)) return std::nullopt;
  T value;
  std::memcpy(&value, bytes.data(), sizeof value);
  return value;
}

}  // namespace squtun::net
