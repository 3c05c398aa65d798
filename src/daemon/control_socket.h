#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "base/fd.h"
#include "daemon/file_identity.h"

namespace squtun::daemon {

// The daemon's end of `squtun show`: a Unix stream socket beside the pid file, mode 0600,
// that answers each connection with the status text and closes it. Connections from
// users other than the daemon's own (or root) are refused even if the mode were wider.
class ControlSocket {
 public:
  // /var/run/squtun/squtun-tun0.pid -> /var/run/squtun/squtun-tun0.sock
  static std::string path_beside(const std::string& pidfile);

  // Replaces a stale socket at path. Throws std::runtime_error naming the path.
  explicit ControlSocket(const std::string& path);
  ControlSocket(const ControlSocket&) = delete;
  ControlSocket& operator=(const ControlSocket&) = delete;
  ~ControlSocket();

  int fd() const { return listener_.get(); }
  const std::string& path() const { return path_; }

  // Lets the user we drop to connect to the socket and remove it at exit.
  void give_to(uid_t uid, gid_t gid);

  // Answers one waiting connection, if any, with `status`.
  void answer(const std::string& status);

 private:
  std::string path_;
  base::Fd listener_;
  std::optional<FileIdentity> identity_;
};

// The client side: connects to the socket at path and returns what the daemon says.
// Throws std::runtime_error naming the path and the likely cause.
std::string query_control_socket(const std::string& path);

}  // namespace squtun::daemon
