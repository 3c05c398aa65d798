#include "daemon/pid_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "temp_dir.h"

namespace squtun::daemon {
namespace {

class PidFileTest : public ::testing::Test {
 protected:
  test_support::TempDir temp_{"squtun-pidfile"};
  const std::string dir_ = temp_.path();
};

TEST_F(PidFileTest, WritesOurPidAndRemovesItWhenDestroyed) {
  const std::string path = dir_ + "/squtun-tun0.pid";
  {
    PidFile pidfile(path);
    std::ifstream in(path);
    long pid = 0;
    in >> pid;
    EXPECT_EQ(pid, static_cast<long>(getpid()));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(PidFileTest, ReplacesAStaleFile) {
  const std::string path = dir_ + "/stale.pid";
  std::ofstream(path) << "999999999\n";
  PidFile pidfile(path);
  std::ifstream in(path);
  long pid = 0;
  in >> pid;
  EXPECT_EQ(pid, static_cast<long>(getpid()));
}

TEST_F(PidFileTest, LeavesAFileAnotherDaemonWroteSince) {
  const std::string path = dir_ + "/x.pid";
  std::optional<PidFile> pidfile(path);
  // Renamed over it, so that the new file cannot reuse the old one's inode number.
  std::ofstream(dir_ + "/another.pid") << "12345\n";
  std::filesystem::rename(dir_ + "/another.pid", path);
  pidfile.reset();
  EXPECT_TRUE(std::filesystem::exists(path));
}

TEST_F(PidFileTest, MissingDirectoryNamesPathAndFix) {
  const std::string path = dir_ + "/missing/x.pid";
  try {
    PidFile pidfile(path);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(dir_ + "/missing"), std::string::npos) << message;
    EXPECT_NE(message.find("--pidfile"), std::string::npos) << message;
  }
}

TEST_F(PidFileTest, EnsureDirectoryCreatesStickyGroupWritableDirectoryAsRoot) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  const std::string run_dir = dir_ + "/run";
  ensure_pid_directory(run_dir + "/squtun-tun0.pid");
  struct stat st{};
  ASSERT_EQ(stat(run_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 01775u);
}

}  // namespace
}  // namespace squtun::daemon
