#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/fd.h"

namespace squtun::daemon {

// Removes the daemon's pid file and control socket when the daemon exits, however it exits
// (SIGKILL and crashes included), from a small process that keeps the credentials and the
// root directory the daemon started with. The daemon cannot do it itself once it has
// changed them: after --user its user may lack write access to the files' directory, and
// after --chroot their paths lead nowhere.
class FileKeeper {
 public:
  // Forks the keeper, which notes which file is at each path now; a file found there later
  // is removed only if it is still that one, never another daemon's. Call while the process
  // has one thread. Throws std::runtime_error if the keeper cannot be started.
  explicit FileKeeper(const std::vector<std::string>& paths);
  FileKeeper(const FileKeeper&) = delete;
  FileKeeper& operator=(const FileKeeper&) = delete;
  // Lets the keeper remove the files now, and waits until it has.
  ~FileKeeper();

 private:
  base::Fd pipe_;
  pid_t pid_ = -1;
};

}  // namespace squtun::daemon
