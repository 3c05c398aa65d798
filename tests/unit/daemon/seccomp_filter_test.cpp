#include "daemon/seccomp_filter.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace squtun::daemon {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// Runs `body` in a child confined by the filter; the child's exit status is the result.
int run_confined(int (*body)()) {
  const pid_t child = fork();
  if (child == 0) {
    try {
      confine_system_calls();
    } catch (...) {
      _exit(100);
    }
    _exit(body());
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

// The sanitizer runtimes make system calls of their own (sigaltstack, ...) that the filter
// refuses; sanitizer builds of the daemon skip the filter for the same reason.
#define SKIP_IF_SANITIZED() \
  if (kSanitized) GTEST_SKIP() << "the filter is not used in sanitizer builds"

TEST(SeccompFilterTest, OpeningAFileIsRefused) {
  SKIP_IF_SANITIZED();
  EXPECT_EQ(run_confined([] {
              const int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
              return fd < 0 && errno == EPERM ? 0 : 1;
            }),
            0);
}

TEST(SeccompFilterTest, NewNetworkSocketsAndExecAreRefused) {
  SKIP_IF_SANITIZED();
  EXPECT_EQ(run_confined([] {
              const int fd = socket(AF_INET, SOCK_DGRAM, 0);
              if (fd >= 0 || errno != EPERM) return 1;
              char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
              execv("/bin/true", argv);
              return errno == EPERM ? 0 : 2;
            }),
            0);
}

TEST(SeccompFilterTest, WhatTheDaemonNeedsStillWorks) {
  SKIP_IF_SANITIZED();
  EXPECT_EQ(run_confined([] {
              int fds[2];
              if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0) return 1;  // not on the list
              const int unix_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
              if (unix_fd < 0) return 2;
              close(unix_fd);
              char byte = 'x';
              return write(STDOUT_FILENO, &byte, 0) == 0 && getpid() > 0 ? 0 : 3;
            }),
            0);
}

}  // namespace
}  // namespace squtun::daemon
