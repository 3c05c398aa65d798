#include "daemon/seccomp_filter.h"

#include <seccomp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <string>

namespace squtun::daemon {
namespace {

struct FilterRelease {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Filter = std::unique_ptr<void, FilterRelease>;

// By purpose; a name unknown on this architecture is skipped.
constexpr const char* kAllowed[] = {
    // the data path and the control socket
    "read", "write", "readv", "writev", "recvmmsg", "sendmmsg", "recvmsg", "sendmsg", "recvfrom", "sendto",
    "poll", "ppoll", "accept4", "getsockopt", "close",
    // threads, memory, time
    "futex", "sched_yield", "nanosleep", "clock_nanosleep", "clock_gettime", "gettimeofday", "time", "mmap",
    "munmap", "mprotect", "mremap", "madvise", "brk", "rseq", "set_robust_list",
    // handshake randomness (OpenSSL)
    "getrandom",
    // signals and exit: the pid file and socket are removed, the keeper reaped
    "rt_sigreturn", "rt_sigprocmask", "restart_syscall", "exit", "exit_group", "getpid", "gettid", "tgkill",
    "getuid", "geteuid", "getgid", "getegid", "newfstatat", "fstat", "stat", "statx", "unlink", "unlinkat", "wait4",
    // syslog reconnects to /dev/log
    "connect",
};

void allow(void* ctx, const char* name) {
  const int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return;
  if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) != 0)
    throw std::runtime_error(std::string("seccomp: cannot allow ") + name);
}

}  // namespace

void confine_system_calls() {
  // Reads the time zone now: /etc/localtime cannot be opened later.
  tzset();
  Filter filter(seccomp_init(SCMP_ACT_ERRNO(EPERM)));
  if (!filter) throw std::runtime_error("seccomp: cannot create a filter");
  for (const char* name : kAllowed) allow(filter.get(), name);
  if (seccomp_rule_add(filter.get(), SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0)) != 0)
    throw std::runtime_error("seccomp: cannot allow Unix sockets");
  // Every thread, not only the caller: the data path threads already run.
  if (seccomp_attr_set(filter.get(), SCMP_FLTATR_CTL_TSYNC, 1) != 0)
    throw std::runtime_error("seccomp: cannot apply the filter to all threads");
  if (const int rc = seccomp_load(filter.get()); rc != 0)
    throw std::runtime_error(std::string("seccomp: the kernel refused the filter: ") + std::strerror(-rc));
}

}  // namespace squtun::daemon
