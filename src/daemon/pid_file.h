#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "base/fd.h"
#include "daemon/privileges.h"

namespace squtun::daemon {

// Writes our pid to a file and removes it when destroyed. It keeps its directory open so
// that removal still works after --chroot has hidden the path.
class PidFile {
 public:
  // Throws std::runtime_error naming the path and the fix.
  explicit PidFile(const std::string& path);
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;
  ~PidFile();

  // Removes another file of ours in the same directory (the control socket) with it.
  void also_remove(const std::string& path);

  // Lets an unprivileged user we drop to remove the file at exit.
  void give_to(const TargetUser& user);

  // Before --chroot: an open directory would be a way out of the jail, so a small process
  // left outside it (running as `user` if given) removes the file when we exit, however
  // we exit. Throws std::runtime_error if it cannot be started.
  void remove_from_outside_chroot(const std::optional<TargetUser>& user);

 private:
  void remove_files() const;

  std::string path_;
  std::string name_;
  std::vector<std::string> companions_;
  base::Fd directory_;
  base::Fd keeper_pipe_;
  pid_t keeper_pid_ = -1;
};

// Creates the default pid file directory (/var/run/squtun, root:tun, 01775) if missing
// and we are root, as `make install` would.
void ensure_pid_directory(const std::string& pidfile_path);

}  // namespace squtun::daemon
