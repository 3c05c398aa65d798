#include "net/resolver_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <exception>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace squtun::net {
namespace {

// One answer, one SOCK_SEQPACKET message. Both ends are the same binary.
struct Reply {
  std::uint8_t ok = 0;
  base::Endpoint endpoint;
  char error[256] = {};
};
static_assert(std::is_trivially_copyable_v<Reply>);

constexpr int kHelperFd = 3;
// How long the destructor waits for an idle helper to notice the closed socket.
constexpr int kReapPolls = 100;
constexpr long kReapPollNs = 10'000'000;

void set_error(Reply& reply, const char* message) {
  std::strncpy(reply.error, message, sizeof reply.error - 1);
  reply.error[sizeof reply.error - 1] = '\0';
}

[[noreturn]] void run_helper(int fd, pid_t parent, const ResolverProcess::Lookup& lookup,
                             const std::function<void()>& in_child) {
  // Only the socket stays open: not the TUN device, the UDP socket, the pid file, nor the
  // pipe a detaching launcher waits on, nor the launcher's stdout and stderr (a shell's
  // $(squtun ...) would wait for the helper to close them).
  if (fd != kHelperFd) {
    if (::dup2(fd, kHelperFd) < 0) ::_exit(1);
    fd = kHelperFd;
  }
  ::close_range(kHelperFd + 1, ~0U, 0);
  const int null_fd = ::open("/dev/null", O_RDWR);
  for (int std_fd = 0; std_fd <= 2; ++std_fd)
    if (null_fd < 0 || ::dup2(null_fd, std_fd) < 0) ::close(std_fd);
  if (null_fd > 2) ::close(null_fd);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  Reply failed_setup;
  try {
    if (in_child) in_child();
  } catch (const std::exception& e) {
    set_error(failed_setup, e.what());
  }
  // Set after any change of credentials, which clears it.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(0);

  for (;;) {
    char request = 0;
    const ssize_t n = ::recv(fd, &request, 1, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ::_exit(0);
    while (::recv(fd, &request, 1, MSG_DONTWAIT) > 0) {
    }  // requests that piled up get one answer
    Reply reply;
    if (failed_setup.error[0] != '\0') {
      reply = failed_setup;
    } else {
      try {
        reply.endpoint = lookup();
        reply.ok = 1;
      } catch (const std::exception& e) {
        set_error(reply, e.what());
      }
    }
    if (::send(fd, &reply, sizeof reply, MSG_NOSIGNAL) < 0 && errno != EINTR) ::_exit(0);
  }
}

}  // namespace

ResolverProcess ResolverProcess::spawn(Lookup lookup, const std::function<void()>& in_child) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0)
    throw std::runtime_error(std::string("cannot create the name lookup helper's socket: ") + std::strerror(errno));
  base::Fd ours(fds[0]);
  base::Fd theirs(fds[1]);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0)
    throw std::runtime_error(std::string("cannot start the name lookup helper process: ") + std::strerror(errno));
  if (pid == 0) {
    try {
      run_helper(theirs.get(), parent, lookup, in_child);
    } catch (...) {
    }
    ::_exit(1);
  }
  return ResolverProcess(std::move(ours), pid);
}

ResolverProcess::ResolverProcess(ResolverProcess&& other) noexcept
    : socket_(std::move(other.socket_)),
      pid_(std::exchange(other.pid_, -1)),
      busy_(other.busy_),
      gone_(other.gone_) {}

ResolverProcess& ResolverProcess::operator=(ResolverProcess&& other) noexcept {
  if (this != &other) {
    finish();
    socket_ = std::move(other.socket_);
    pid_ = std::exchange(other.pid_, -1);
    busy_ = other.busy_;
    gone_ = other.gone_;
  }
  return *this;
}

ResolverProcess::~ResolverProcess() { finish(); }

void ResolverProcess::finish() {
  socket_.reset();
  if (pid_ <= 0) return;
  const pid_t pid = std::exchange(pid_, -1);
  // Outside the seccomp filter a slow lookup is cut short; inside it kill is refused, and
  // a helper still busy when the daemon exits dies by PR_SET_PDEATHSIG instead.
  if (::kill(pid, SIGKILL) == 0) {
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return;
  }
  for (int i = 0; i < kReapPolls; ++i) {
    if (::waitpid(pid, nullptr, WNOHANG) != 0) return;
    const timespec pause{0, kReapPollNs};
    ::nanosleep(&pause, nullptr);
  }
}

bool ResolverProcess::request() {
  if (busy_ || gone_ || !socket_.valid()) return false;
  const char request = 'r';
  if (::send(socket_.get(), &request, 1, MSG_DONTWAIT | MSG_NOSIGNAL) != 1) {
    if (errno != EAGAIN && errno != EINTR) gone_ = true;
    return false;
  }
  busy_ = true;
  return true;
}

std::optional<ResolverProcess::Result> ResolverProcess::take_result() {
  if (gone_ || !socket_.valid()) return std::nullopt;
  Reply reply;
  const ssize_t n = ::recv(socket_.get(), &reply, sizeof reply, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return std::nullopt;
  busy_ = false;
  if (n != static_cast<ssize_t>(sizeof reply)) {
    gone_ = true;
    return Result{std::nullopt, "the name lookup helper process has exited"};
  }
  if (reply.ok) return Result{reply.endpoint, {}};
  reply.error[sizeof reply.error - 1] = '\0';
  return Result{std::nullopt, reply.error};
}

}  // namespace squtun::net
