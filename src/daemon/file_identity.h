#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace squtun::daemon {

// Which file is at a path (device and inode), so that the daemon's files are removed only
// while they are still the ones it made, never one another process has put at the path since.
struct FileIdentity {
  dev_t device = 0;
  ino_t inode = 0;

  // What is at path now, not following a symbolic link; nothing if there is nothing.
  static std::optional<FileIdentity> at(const std::string& path);
  // Removes path if the file there is still this one.
  void remove_if_still_at(const std::string& path) const;
};

}  // namespace squtun::daemon
