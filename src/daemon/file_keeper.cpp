#include "daemon/file_keeper.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "daemon/file_identity.h"

namespace squtun::daemon {
namespace {

struct KeptFile {
  std::string path;
  FileIdentity identity;
};

// A copy of the daemon that outlives it must not hold its TUN device, socket or terminal open.
void keep_only(int fd) {
  const int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int std_fd = 0; std_fd <= 2 && null_fd >= 0; ++std_fd) dup2(null_fd, std_fd);
  if (fd > 3) close_range(3, fd - 1, 0);
  close_range(fd + 1, ~0U, 0);
}

std::vector<KeptFile> identify(const std::vector<std::string>& paths) {
  std::vector<KeptFile> files;
  for (const auto& path : paths)
    if (const auto identity = FileIdentity::at(path)) files.push_back({path, *identity});
  return files;
}

[[noreturn]] void keep(const std::vector<KeptFile>& files, int pipe_fd) {
  keep_only(pipe_fd);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  char byte = 0;
  while (read(pipe_fd, &byte, 1) < 0 && errno == EINTR) {
  }
  for (const auto& file : files) file.identity.remove_if_still_at(file.path);
  _exit(0);
}

}  // namespace

FileKeeper::FileKeeper(const std::vector<std::string>& paths) {
  const std::vector<KeptFile> files = identify(paths);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  base::Fd read_end(fds[0]);
  pipe_ = base::Fd(fds[1]);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error(std::string("cannot start the process that removes the pid file: fork: ") +
                                         std::strerror(errno));
  if (pid_ == 0) keep(files, read_end.get());
}

FileKeeper::~FileKeeper() {
  pipe_.reset();
  while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace squtun::daemon
