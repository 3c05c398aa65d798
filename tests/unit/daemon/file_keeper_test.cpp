#include "daemon/file_keeper.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "temp_dir.h"

namespace squtun::daemon {
namespace {

class FileKeeperTest : public ::testing::Test {
 protected:
  std::string file(const std::string& name) const {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << name << "\n";
    return path;
  }

  test_support::TempDir temp_{"squtun-keeper"};
  const std::string dir_ = temp_.path();
};

TEST_F(FileKeeperTest, RemovesItsFilesWhenDestroyed) {
  const std::string pid = file("squtun-tun0.pid");
  const std::string sock = file("squtun-tun0.sock");
  std::optional<FileKeeper> keeper(std::vector<std::string>{pid, sock});
  EXPECT_TRUE(std::filesystem::exists(pid));
  keeper.reset();
  EXPECT_FALSE(std::filesystem::exists(pid));
  EXPECT_FALSE(std::filesystem::exists(sock));
}

TEST_F(FileKeeperTest, LeavesAFileAnotherDaemonPutThereSince) {
  const std::string pid = file("squtun-tun0.pid");
  std::optional<FileKeeper> keeper(std::vector<std::string>{pid, dir_ + "/never-made.sock"});
  // Renamed over it, so that the new file cannot reuse the old one's inode number.
  std::filesystem::rename(file("another.pid"), pid);
  keeper.reset();
  EXPECT_TRUE(std::filesystem::exists(pid));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/never-made.sock"));
}

TEST_F(FileKeeperTest, RemovesTheFilesWhenTheDaemonIsKilled) {
  const std::string pid = file("squtun-tun0.pid");
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t daemon = fork();
  ASSERT_GE(daemon, 0);
  if (daemon == 0) {
    FileKeeper keeper({pid});
    const char byte = 1;
    if (write(ready[1], &byte, 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  close(ready[1]);
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  close(ready[0]);
  EXPECT_TRUE(std::filesystem::exists(pid));
  kill(daemon, SIGKILL);
  ASSERT_EQ(waitpid(daemon, nullptr, 0), daemon);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::filesystem::exists(pid) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_FALSE(std::filesystem::exists(pid)) << "the keeper did not remove the file within 5 s";
}

}  // namespace
}  // namespace squtun::daemon
