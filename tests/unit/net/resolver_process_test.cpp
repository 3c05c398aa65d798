#include "net/resolver_process.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace squtun::net {
namespace {

using base::Endpoint;

const Endpoint kMoved = Endpoint::v4({198, 18, 0, 3}, 7777);

// Waits (bounded) for the helper's answer to arrive, as the daemon's poll would.
std::optional<ResolverProcess::Result> wait_result(ResolverProcess& resolver, int timeout_ms = 5000) {
  pollfd pfd{resolver.fd(), POLLIN, 0};
  if (::poll(&pfd, 1, timeout_ms) <= 0) return std::nullopt;
  return resolver.take_result();
}

// Reaps our child `pid` within the deadline; its wait status, or nothing.
std::optional<int> reap_within(pid_t pid, std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

TEST(ResolverProcess, AnswersEachRequestFromTheSameHelper) {
  // The counter lives in the helper: consecutive answers prove one long-lived process.
  auto resolver = ResolverProcess::spawn([n = std::uint16_t{0}](const std::string&, std::uint16_t) mutable {
    return Endpoint::v4({198, 18, 0, 3}, static_cast<std::uint16_t>(7000 + ++n));
  });
  EXPECT_GT(resolver.pid(), 0);
  EXPECT_FALSE(resolver.take_result());  // nothing asked yet
  for (std::uint16_t i = 1; i <= 3; ++i) {
    ASSERT_TRUE(resolver.request("peer.squtun.test", 7777));
    EXPECT_TRUE(resolver.busy());
    const auto result = wait_result(resolver);
    ASSERT_TRUE(result);
    ASSERT_TRUE(result->endpoint) << result->error;
    EXPECT_EQ(*result->endpoint, Endpoint::v4({198, 18, 0, 3}, static_cast<std::uint16_t>(7000 + i)));
    EXPECT_FALSE(resolver.busy());
  }
}

TEST(ResolverProcess, LooksUpTheHostAndPortOfEachRequest) {
  auto resolver = ResolverProcess::spawn([](const std::string& host, std::uint16_t port) {
    if (host != "moved.squtun.test") throw std::runtime_error("asked for " + host);
    return Endpoint::v4({198, 18, 0, 9}, port);
  });
  ASSERT_TRUE(resolver.request("moved.squtun.test", 7790));
  const auto result = wait_result(resolver);
  ASSERT_TRUE(result && result->endpoint) << (result ? result->error : "no answer");
  EXPECT_EQ(*result->endpoint, Endpoint::v4({198, 18, 0, 9}, 7790));
}

TEST(ResolverProcess, OneRequestAtATime) {
  auto resolver = ResolverProcess::spawn([](const std::string&, std::uint16_t) { return kMoved; });
  ASSERT_TRUE(resolver.request("peer.squtun.test", 7777));
  EXPECT_FALSE(resolver.request("peer.squtun.test", 7777));  // under way: no second request
  const auto result = wait_result(resolver);
  ASSERT_TRUE(result && result->endpoint);
  EXPECT_FALSE(resolver.take_result());  // exactly one answer
  EXPECT_TRUE(resolver.request("peer.squtun.test", 7777));
  ASSERT_TRUE(wait_result(resolver));
}

TEST(ResolverProcess, LookupFailureComesBackAsItsMessage) {
  auto resolver = ResolverProcess::spawn(
      [](const std::string&, std::uint16_t) -> Endpoint { throw std::runtime_error("cannot resolve peer host 'peer.squtun.test': Name or service not known"); });
  ASSERT_TRUE(resolver.request("peer.squtun.test", 7777));
  const auto result = wait_result(resolver);
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->endpoint);
  EXPECT_NE(result->error.find("peer.squtun.test"), std::string::npos) << result->error;
  EXPECT_FALSE(resolver.gone());
  ASSERT_TRUE(resolver.request("peer.squtun.test", 7777));  // and it keeps answering
  ASSERT_TRUE(wait_result(resolver));
}

TEST(ResolverProcess, SetupRunsInTheHelperAndItsFailureIsReported) {
  const pid_t test_pid = ::getpid();
  auto resolver = ResolverProcess::spawn([](const std::string&, std::uint16_t) { return kMoved; }, [test_pid] {
    if (::getpid() == test_pid) std::abort();  // must not run here
    throw std::runtime_error("--user squtun: setuid: Operation not permitted");
  });
  ASSERT_TRUE(resolver.request("peer.squtun.test", 7777));
  const auto result = wait_result(resolver);
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->endpoint);
  EXPECT_NE(result->error.find("--user squtun"), std::string::npos) << result->error;
}

TEST(ResolverProcess, HelperThatDiesIsReportedGone) {
  auto resolver = ResolverProcess::spawn([](const std::string&, std::uint16_t) -> Endpoint { ::_exit(3); });
  ASSERT_TRUE(resolver.request("peer.squtun.test", 7777));
  const auto result = wait_result(resolver);
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->endpoint);
  EXPECT_NE(result->error.find("exited"), std::string::npos) << result->error;
  EXPECT_TRUE(resolver.gone());
  EXPECT_FALSE(resolver.request("peer.squtun.test", 7777));
  EXPECT_FALSE(resolver.take_result());
}

// True if the pipe's reader sees end of file, i.e. no process holds the write end.
bool reader_sees_eof(int read_fd) {
  pollfd pfd{read_fd, POLLIN, 0};
  if (::poll(&pfd, 1, 2000) != 1) return false;
  char c;
  return ::read(read_fd, &c, 1) == 0;
}

TEST(ResolverProcess, HelperKeepsNoOtherDescriptor) {
  // Pipes open in the daemon must not stay open in the helper: like the one a detaching
  // launcher waits on, and stdout, which a shell's $(squtun ...) reads to the end.
  int other[2];
  int out[2];
  ASSERT_EQ(::pipe(other), 0);
  ASSERT_EQ(::pipe(out), 0);
  const int saved_stdout = ::dup(STDOUT_FILENO);
  ASSERT_GE(saved_stdout, 0);
  ASSERT_EQ(::dup2(out[1], STDOUT_FILENO), STDOUT_FILENO);
  std::optional<ResolverProcess> resolver;
  resolver.emplace(ResolverProcess::spawn([](const std::string&, std::uint16_t) { return kMoved; }));
  ::dup2(saved_stdout, STDOUT_FILENO);
  ::close(saved_stdout);
  ASSERT_TRUE(resolver->request("peer.squtun.test", 7777));
  ASSERT_TRUE(wait_result(*resolver));  // the helper is up and has closed what it inherited
  ::close(other[1]);
  ::close(out[1]);
  EXPECT_TRUE(reader_sees_eof(other[0])) << "the helper still holds a pipe of the daemon";
  EXPECT_TRUE(reader_sees_eof(out[0])) << "the helper still holds the daemon's stdout";
  ::close(other[0]);
  ::close(out[0]);
}

TEST(ResolverProcess, DestructionEndsTheHelper) {
  pid_t pid = -1;
  {
    auto resolver = ResolverProcess::spawn([](const std::string&, std::uint16_t) { return kMoved; });
    pid = resolver.pid();
    ASSERT_EQ(::kill(pid, 0), 0);
  }
  // Reaped, not merely dead: no such process is left.
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST(ResolverProcess, HelperDiesWithTheDaemon) {
  // A stand-in daemon spawns the helper, leaves it in the middle of a lookup that takes a
  // minute, reports its pid, and dies without any cleanup (as on SIGKILL). The kernel must
  // end the helper at once (PR_SET_PDEATHSIG); as a subreaper, the test collects it.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  const pid_t daemon = ::fork();
  ASSERT_GE(daemon, 0);
  if (daemon == 0) {
    ::close(report[0]);
    auto resolver = ResolverProcess::spawn([first = true](const std::string&, std::uint16_t) mutable {
      if (!first) std::this_thread::sleep_for(std::chrono::minutes(1));
      first = false;
      return kMoved;
    });
    // The first answer shows the helper has set PR_SET_PDEATHSIG; the second request
    // keeps it busy.
    if (!resolver.request("peer.squtun.test", 7777) || !wait_result(resolver) || !resolver.request("peer.squtun.test", 7777)) ::_exit(2);
    const pid_t helper = resolver.pid();
    if (::write(report[1], &helper, sizeof helper) != sizeof helper) ::_exit(2);
    ::_exit(0);  // no destructor runs: the socket closes only as the process ends
  }
  ::close(report[1]);
  pid_t helper = -1;
  const bool got = ::read(report[0], &helper, sizeof helper) == sizeof helper;
  ::close(report[0]);
  const auto daemon_status = reap_within(daemon, std::chrono::seconds(5));
  std::optional<int> helper_status;
  if (got) helper_status = reap_within(helper, std::chrono::seconds(5));
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  ASSERT_TRUE(got) << "the stand-in daemon did not report its helper";
  ASSERT_TRUE(daemon_status);
  EXPECT_TRUE(WIFEXITED(*daemon_status) && WEXITSTATUS(*daemon_status) == 0);
  ASSERT_TRUE(helper_status) << "the helper outlived its daemon";
  EXPECT_TRUE(WIFSIGNALED(*helper_status) && WTERMSIG(*helper_status) == SIGKILL) << *helper_status;
}

}  // namespace
}  // namespace squtun::net
