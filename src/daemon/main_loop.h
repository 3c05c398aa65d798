#pragma once

#include <signal.h>

#include "base/fd.h"

namespace squtun::daemon {

class ControlSocket;
class Tunnel;

// The signals the daemon handles. They are blocked in every thread (call before starting
// any) so that only serve_until_stopped sees them.
sigset_t daemon_signals();
void block_daemon_signals();

// A descriptor that reads the daemon's signals; made before the seccomp filter forbids it.
base::Fd open_signal_fd();

// Runs until SIGTERM or SIGINT (returns true) or the tunnel stops on its own, its device
// gone (false): answers SIGUSR1 with the counters in the log and each control socket
// connection with the status.
bool serve_until_stopped(const base::Fd& signals, const Tunnel& tunnel, ControlSocket* control);

}  // namespace squtun::daemon
