#include "daemon/file_identity.h"

#include <sys/stat.h>
#include <unistd.h>

namespace squtun::daemon {

std::optional<FileIdentity> FileIdentity::at(const std::string& path) {
  struct stat st{};
  if (lstat(path.c_str(), &st) != 0) return std::nullopt;
  return FileIdentity{st.st_dev, st.st_ino};
}

void FileIdentity::remove_if_still_at(const std::string& path) const {
  const std::optional<FileIdentity> now = at(path);
  if (now && now->device == device && now->inode == inode) unlink(path.c_str());
}

}  // namespace squtun::daemon
