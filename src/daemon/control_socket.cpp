#include "daemon/control_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace squtun::daemon {
namespace {

constexpr int kClientTimeoutMs = 2000;

sockaddr_un address_of(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    throw std::runtime_error("control socket path " + path + " is too long for a Unix socket");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

bool peer_is_owner_or_root(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
  return cred.uid == 0 || cred.uid == geteuid();
}

void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = send(fd, text.data() + done, text.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n <= 0) return;  // a client that stops reading gets a truncated answer
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::string ControlSocket::path_beside(const std::string& pidfile) {
  const std::string suffix = ".pid";
  const bool has_suffix = pidfile.size() > suffix.size() &&
                          pidfile.compare(pidfile.size() - suffix.size(), suffix.size(), suffix) == 0;
  return (has_suffix ? pidfile.substr(0, pidfile.size() - suffix.size()) : pidfile) + ".sock";
}

ControlSocket::ControlSocket(const std::string& path) : path_(path) {
  const sockaddr_un addr = address_of(path);
  listener_ = base::Fd(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!listener_.valid()) throw std::runtime_error("control socket: " + std::string(std::strerror(errno)));
  unlink(path.c_str());
  // Created 0600 from the start: no moment exists when others could connect.
  const mode_t old_umask = umask(0177);
  const int bound = bind(listener_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  const int bind_errno = errno;
  umask(old_umask);
  if (bound != 0) {
    throw std::runtime_error("cannot create control socket " + path + ": " + std::strerror(bind_errno) +
                             "; its directory must be writable by this user (see --pidfile)");
  }
  if (listen(listener_.get(), 8) != 0)
    throw std::runtime_error("cannot listen on control socket " + path + ": " + std::strerror(errno));
  identity_ = FileIdentity::at(path);
}

ControlSocket::~ControlSocket() {
  if (identity_) identity_->remove_if_still_at(path_);
}

void ControlSocket::give_to(uid_t uid, gid_t gid) {
  if (chown(path_.c_str(), uid, gid) != 0) {
    throw std::runtime_error("cannot hand control socket " + path_ + " to uid " + std::to_string(uid) + ": " +
                             std::strerror(errno));
  }
}

void ControlSocket::answer(const std::string& status) {
  base::Fd client(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!client.valid()) return;
  if (!peer_is_owner_or_root(client.get())) return;
  write_all(client.get(), status);
}

std::string query_control_socket(const std::string& path) {
  const sockaddr_un addr = address_of(path);
  base::Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    std::string hint = "; is squtun running on that interface?";
    if (err == EACCES) hint = "; only the user squtun runs as (or root) may ask it";
    throw std::runtime_error("cannot reach squtun at " + path + ": " + std::strerror(err) + hint);
  }
  std::string answer;
  char buf[4096];
  pollfd pfd{fd.get(), POLLIN, 0};
  while (poll(&pfd, 1, kClientTimeoutMs) > 0) {
    const ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n <= 0) break;
    answer.append(buf, static_cast<std::size_t>(n));
  }
  if (answer.empty()) throw std::runtime_error("squtun at " + path + " gave no answer (not its owner or root?)");
  return answer;
}

}  // namespace squtun::daemon
