#include "daemon/detach.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

namespace squtun::daemon {
namespace {

constexpr char kReady = '\0';

[[noreturn]] void wait_for_child_verdict(int read_end) {
  std::string report;
  char buf[512];
  for (;;) {
    const ssize_t n = read(read_end, buf, sizeof buf);
    if (n > 0) {
      report.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  if (report.size() == 1 && report[0] == kReady) std::_Exit(0);
  if (report.empty()) report = "the daemon exited during setup";
  std::fprintf(stderr, "squtun: %s\n", report.c_str());
  std::_Exit(1);
}

void redirect_std_streams_to_null() {
  const int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0) return;
  for (int fd = 0; fd <= 2; ++fd) dup2(null_fd, fd);
  if (null_fd > 2) close(null_fd);
}

}  // namespace

void Detacher::detach() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid > 0) {
    close(fds[1]);
    wait_for_child_verdict(fds[0]);
  }
  close(fds[0]);
  report_ = base::Fd(fds[1]);
  setsid();
  if (chdir("/") != 0) report_failure(std::string("chdir /: ") + std::strerror(errno));
}

void Detacher::report_ready() {
  if (!report_.valid()) return;
  redirect_std_streams_to_null();
  const ssize_t written = write(report_.get(), &kReady, 1);
  static_cast<void>(written);  // if the parent is gone, nobody is left to tell
  report_.reset();
}

void Detacher::report_failure(const std::string& message) {
  if (!report_.valid()) return;
  const ssize_t written = write(report_.get(), message.data(), message.size());
  static_cast<void>(written);
  report_.reset();
}

}  // namespace squtun::daemon
