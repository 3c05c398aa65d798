#include "daemon/pid_file.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "base/fd.h"

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

PidFile::PidFile(const std::string& path) : path_(path) {
  base::Fd file(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!file.valid()) {
    const int err = errno;
    const std::string dir = directory_of(path);
    struct stat st{};
    if (stat(dir.c_str(), &st) != 0)
      throw std::runtime_error("cannot open pid file directory " + dir + ": " + std::strerror(errno) + fix_hint(dir));
    throw std::runtime_error("cannot write pid file " + path + ": " + std::strerror(err) + fix_hint(dir));
  }
  const std::string text = std::to_string(getpid()) + "\n";
  if (write(file.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    throw std::runtime_error("cannot write pid file " + path + ": " + std::strerror(errno));
  identity_ = FileIdentity::at(path);
}

PidFile::~PidFile() {
  if (identity_) identity_->remove_if_still_at(path_);
}

}  // namespace squtun::daemon
