#pragma once

namespace squtun::daemon {

// Confines every thread of the process to the system calls the running daemon needs:
// moving packets, timers, randomness for handshakes, logging, answering `squtun show`
// and exiting. Anything else (opening files, new sockets other than syslog's, exec,
// ptrace, ...) fails with EPERM. Call once setup is complete; it cannot be undone.
// Throws std::runtime_error if the kernel refuses the filter.
void confine_system_calls();

}  // namespace squtun::daemon
