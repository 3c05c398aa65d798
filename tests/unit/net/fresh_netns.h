#pragma once

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <functional>
#include <string>

namespace squtun::test {

// What a check run in a child found wrong; empty if all is well.
using ChildCheck = std::function<std::string()>;

namespace detail {

inline void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0 && errno != EINTR) return;
    if (n > 0) done += static_cast<std::size_t>(n);
  }
}

inline std::string read_all(int fd) {
  std::string text;
  char chunk[512];
  ssize_t n;
  while ((n = ::read(fd, chunk, sizeof chunk)) != 0) {
    if (n > 0) text.append(chunk, static_cast<std::size_t>(n));
    else if (errno != EINTR) break;
  }
  return text;
}

[[noreturn]] inline void run_child(const ChildCheck& check, int report_fd) {
  std::string problem;
  if (::unshare(CLONE_NEWNET) != 0) {
    problem = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
  } else {
    try {
      problem = check();
    } catch (const std::exception& e) {
      problem = std::string("unexpected exception: ") + e.what();
    }
  }
  write_all(report_fd, problem);
  ::_exit(0);  // skip the parent's atexit handlers and gtest teardown
}

}  // namespace detail

// Runs check in a forked child inside a fresh network namespace, so every interface it
// creates disappears with the child and no packet can reach the host's network. Needs
// root. Returns the check's report, or why the child could not deliver one.
inline std::string run_in_fresh_netns(const ChildCheck& check) {
  int report[2];
  if (::pipe(report) != 0) return std::string("pipe: ") + std::strerror(errno);
  const pid_t pid = ::fork();
  if (pid < 0) return std::string("fork: ") + std::strerror(errno);
  if (pid == 0) {
    ::close(report[0]);
    detail::run_child(check, report[1]);
  }
  ::close(report[1]);
  std::string problem = detail::read_all(report[0]);
  ::close(report[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    problem += " (child did not exit cleanly, status " + std::to_string(status) + ")";
  }
  return problem;
}

}  // namespace squtun::test
