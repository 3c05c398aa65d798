#include "net/helper_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <exception>
#include <stdexcept>
#include <utility>

namespace squtun::net {
namespace {

// Each request and reply is one SOCK_SEQPACKET message that starts with one of these bytes, so
// that none is empty (an empty message reads as end of file).
constexpr std::uint8_t kRequest = 2, kAnswer = 1, kError = 0;
constexpr int kHelperFd = 3;
// How long the destructor waits for an idle helper to notice the closed socket.
constexpr int kReapPolls = 100;
constexpr long kReapPollNs = 10'000'000;

std::vector<std::uint8_t> framed(std::uint8_t status, std::span<const std::uint8_t> body) {
  const std::size_t n = std::min(body.size(), HelperProcess::kMaxMessage - 1);
  std::vector<std::uint8_t> message(1 + n);
  message[0] = status;
  std::copy_n(body.data(), n, message.data() + 1);
  return message;
}

std::vector<std::uint8_t> error_message(std::string_view text) {
  return framed(kError, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

// Only the socket stays open: not the TUN device, the UDP socket, the pid file, nor the pipe
// a detaching launcher waits on, nor the launcher's stdout and stderr (a shell's
// $(squtun ...) would wait for the helper to close them).
int keep_only_socket(int fd) {
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
  return fd;
}

[[noreturn]] void run_helper(int fd, pid_t parent, const HelperProcess::Serve& serve,
                             const std::function<void()>& in_child) {
  fd = keep_only_socket(fd);
  std::string failed_setup;
  try {
    if (in_child) in_child();
  } catch (const std::exception& e) {
    failed_setup = e.what();
  }
  // Set after any change of credentials, which clears it.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(0);

  std::vector<std::uint8_t> request(HelperProcess::kMaxMessage);
  for (;;) {
    ssize_t n = ::recv(fd, request.data(), request.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ::_exit(0);
    // Requests that piled up get one answer, to the latest.
    for (ssize_t more; (more = ::recv(fd, request.data(), request.size(), MSG_DONTWAIT)) >= 0;) n = more;
    std::vector<std::uint8_t> reply;
    if (!failed_setup.empty()) {
      reply = error_message(failed_setup);
    } else {
      try {
        reply = framed(kAnswer, serve(std::span(request).subspan(1, static_cast<std::size_t>(n) - 1)));
      } catch (const std::exception& e) {
        reply = error_message(e.what());
      }
    }
    const bool sent = ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL) >= 0 || errno == EINTR;
    // Replies may carry key material (a reload's keys): no copy outlives its use.
    ::explicit_bzero(reply.data(), reply.size());
    if (!sent) ::_exit(0);
  }
}

}  // namespace

HelperProcess HelperProcess::spawn(std::string role, Serve serve, const std::function<void()>& in_child) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0)
    throw std::runtime_error("cannot create the " + role + " helper's socket: " + std::strerror(errno));
  base::Fd ours(fds[0]);
  base::Fd theirs(fds[1]);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("cannot start the " + role + " helper process: " + std::strerror(errno));
  if (pid == 0) {
    try {
      run_helper(theirs.get(), parent, serve, in_child);
    } catch (...) {
    }
    ::_exit(1);
  }
  return HelperProcess(std::move(role), std::move(ours), pid);
}

HelperProcess::HelperProcess(HelperProcess&& other) noexcept
    : role_(std::move(other.role_)),
      socket_(std::move(other.socket_)),
      pid_(std::exchange(other.pid_, -1)),
      busy_(other.busy_),
      gone_(other.gone_) {}

HelperProcess& HelperProcess::operator=(HelperProcess&& other) noexcept {
  if (this != &other) {
    finish();
    role_ = std::move(other.role_);
    socket_ = std::move(other.socket_);
    pid_ = std::exchange(other.pid_, -1);
    busy_ = other.busy_;
    gone_ = other.gone_;
  }
  return *this;
}

HelperProcess::~HelperProcess() { finish(); }

void HelperProcess::finish() {
  socket_.reset();
  if (pid_ <= 0) return;
  const pid_t pid = std::exchange(pid_, -1);
  // Outside the seccomp filter a slow request is cut short; inside it kill is refused, and
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

bool HelperProcess::request(std::span<const std::uint8_t> bytes) {
  if (busy_ || gone_ || !socket_.valid() || bytes.size() >= kMaxMessage) return false;
  const std::vector<std::uint8_t> message = framed(kRequest, bytes);
  if (::send(socket_.get(), message.data(), message.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
    if (errno != EAGAIN && errno != EINTR) gone_ = true;
    return false;
  }
  busy_ = true;
  return true;
}

std::optional<HelperProcess::Result> HelperProcess::take_result() {
  if (gone_ || !socket_.valid()) return std::nullopt;
  std::vector<std::uint8_t> message(kMaxMessage);
  const ssize_t n = ::recv(socket_.get(), message.data(), message.size(), MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return std::nullopt;
  busy_ = false;
  if (n < 1) {
    gone_ = true;
    return Result{std::nullopt, "the " + role_ + " helper process has exited"};
  }
  message.resize(static_cast<std::size_t>(n));
  Result result{std::nullopt, std::string(message.begin() + 1, message.end())};
  if (message[0] == kAnswer) result = Result{std::vector(message.begin() + 1, message.end()), {}};
  ::explicit_bzero(message.data(), message.size());
  return result;
}

}  // namespace squtun::net
