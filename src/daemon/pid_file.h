#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "daemon/file_identity.h"

namespace squtun::daemon {

// Writes our pid to a file and removes it when destroyed, if it is still ours. With --user or
// --chroot the daemon may no longer be able to: FileKeeper then removes it.
class PidFile {
 public:
  // Throws std::runtime_error naming the path and the fix.
  explicit PidFile(const std::string& path);
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;
  ~PidFile();

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::optional<FileIdentity> identity_;
};

// Creates the default pid file directory (/var/run/squtun, root:tun, 01775) if missing
// and we are root, as `make install` would.
void ensure_pid_directory(const std::string& pidfile_path);

}  // namespace squtun::daemon
