#include "daemon/pid_file.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace squtun::daemon {
namespace {

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string fix_hint(const std::string& dir) {
  return "; create " + dir + " writable by this user (make install does: root:tun, mode 01775)" +
         " or choose another path with --pidfile PATH";
}

// In a freshly forked child: keeps only the two descriptors it needs, and lets go of the
// terminal or pipe the daemon was started from.
void close_all_but(int a, int b) {
  const int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = 0; fd <= 2 && null_fd >= 0; ++fd) dup2(null_fd, fd);
  const int low = std::min(a, b);
  const int high = std::max(a, b);
  if (low > 3) close_range(3, low - 1, 0);
  if (high > low + 1) close_range(low + 1, high - 1, 0);
  close_range(high + 1, ~0U, 0);
}

}  // namespace

void ensure_pid_directory(const std::string& pidfile_path) {
  const std::string dir = directory_of(pidfile_path);
  struct stat st{};
  if (stat(dir.c_str(), &st) == 0 || errno != ENOENT || geteuid() != 0) return;
  if (mkdir(dir.c_str(), 01775) != 0) return;
  chmod(dir.c_str(), 01775);  // mkdir applies the umask
  if (const group* tun_group = getgrnam("tun"))
    if (chown(dir.c_str(), 0, tun_group->gr_gid) != 0) return;
}

PidFile::PidFile(const std::string& path) : path_(path), name_(path.substr(path.rfind('/') + 1)) {
  const std::string dir = directory_of(path);
  directory_ = base::Fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!directory_.valid()) {
    throw std::runtime_error("cannot open pid file directory " + dir + ": " + std::strerror(errno) +
                             fix_hint(dir));
  }
  base::Fd file(openat(directory_.get(), name_.c_str(),
                       O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!file.valid())
    throw std::runtime_error("cannot write pid file " + path + ": " + std::strerror(errno) + fix_hint(dir));
  const std::string text = std::to_string(getpid()) + "\n";
  if (write(file.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    throw std::runtime_error("cannot write pid file " + path + ": " + std::strerror(errno));
}

void PidFile::give_to(const TargetUser& user) {
  if (fchownat(directory_.get(), name_.c_str(), user.uid, user.gid, AT_SYMLINK_NOFOLLOW) != 0) return;
}

void PidFile::also_remove(const std::string& path) {
  if (directory_of(path) == directory_of(path_)) companions_.push_back(path.substr(path.rfind('/') + 1));
}

void PidFile::remove_files() const {
  for (const auto& name : companions_) unlinkat(directory_.get(), name.c_str(), 0);
  unlinkat(directory_.get(), name_.c_str(), 0);
}

void PidFile::remove_from_outside_chroot(const std::optional<TargetUser>& user) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  base::Fd read_end(fds[0]);
  base::Fd write_end(fds[1]);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    close_all_but(directory_.get(), read_end.get());
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (user) {
      try {
        become_user(*user);
      } catch (const std::exception&) {
        _exit(1);
      }
    }
    char byte = 0;
    while (read(read_end.get(), &byte, 1) < 0 && errno == EINTR) {
    }
    remove_files();
    _exit(0);
  }
  keeper_pid_ = pid;
  keeper_pipe_ = std::move(write_end);
  directory_.reset();
}

PidFile::~PidFile() {
  if (keeper_pid_ < 0) {
    remove_files();
    return;
  }
  keeper_pipe_.reset();
  while (waitpid(keeper_pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace squtun::daemon
