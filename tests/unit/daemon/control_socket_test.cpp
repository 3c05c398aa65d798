#include "daemon/control_socket.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <string>

#include "temp_dir.h"

namespace squtun::daemon {
namespace {

class ControlSocketTest : public ::testing::Test {
 protected:
  void SetUp() override { chmod(dir_.c_str(), 0755); }
  test_support::TempDir temp_{"squtun-control"};
  const std::string dir_ = temp_.path();
};

TEST(ControlSocketPathTest, SitsBesideThePidFile) {
  EXPECT_EQ(ControlSocket::path_beside("/var/run/squtun/squtun-tun0.pid"), "/var/run/squtun/squtun-tun0.sock");
  EXPECT_EQ(ControlSocket::path_beside("/tmp/x"), "/tmp/x.sock");
}

TEST_F(ControlSocketTest, AnswersItsOwnerAndIsPrivate) {
  const std::string path = dir_ + "/s.sock";
  ControlSocket control(path);
  struct stat st{};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto answer = std::async(std::launch::async, [&] { return query_control_socket(path); });
  pollfd pfd{control.fd(), POLLIN, 0};
  ASSERT_EQ(poll(&pfd, 1, 5000), 1);
  control.answer("peer: 198.18.0.2:7777\n");
  EXPECT_EQ(answer.get(), "peer: 198.18.0.2:7777\n");
}

TEST_F(ControlSocketTest, RefusesOtherUsers) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to act as another user";
  const std::string path = dir_ + "/s.sock";
  ControlSocket control(path);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
    try {
      query_control_socket(path);
    } catch (const std::exception&) {
      _exit(0);
    }
    _exit(1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "another user got an answer";
}

TEST_F(ControlSocketTest, RemovesOnlyItsOwnSocket) {
  const std::string path = dir_ + "/s.sock";
  {
    ControlSocket first(path);
    ControlSocket second(path);  // a later daemon took the path over
    struct stat before{};
    ASSERT_EQ(stat(path.c_str(), &before), 0);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  {
    auto first = std::make_unique<ControlSocket>(path);
    ControlSocket second(path);
    first.reset();
    EXPECT_TRUE(std::filesystem::exists(path)) << "the first daemon removed the second's socket";
  }
}

TEST_F(ControlSocketTest, MissingDaemonNamesThePath) {
  try {
    query_control_socket(dir_ + "/none.sock");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(dir_ + "/none.sock"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace squtun::daemon
