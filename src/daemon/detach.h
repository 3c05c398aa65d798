#pragma once

#include <string>

#include "base/fd.h"

namespace squtun::daemon {

// Detaches from the terminal like a classic daemon, but the starting process waits until
// the detached one says it is running (exit 0) or why it failed (message on stderr, exit
// 1). So `squtun ... && ping` in a script works, and errors are not lost to syslog.
class Detacher {
 public:
  // Forks; returns in the child only. The parent exits with the child's verdict.
  void detach();
  bool detached() const { return report_.valid(); }

  // In the child: setup finished; stdin, stdout and stderr now go to /dev/null.
  void report_ready();
  // In the child: setup failed with this message.
  void report_failure(const std::string& message);

 private:
  base::Fd report_;
};

}  // namespace squtun::daemon
