#include "daemon/main_loop.h"

#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "daemon/control_socket.h"
#include "daemon/log.h"
#include "daemon/tunnel.h"

namespace squtun::daemon {

sigset_t daemon_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGTERM, SIGINT, SIGUSR1, SIGHUP}) sigaddset(&set, sig);
  return set;
}

void block_daemon_signals() {
  const sigset_t set = daemon_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

base::Fd open_signal_fd() {
  const sigset_t set = daemon_signals();
  base::Fd signals(signalfd(-1, &set, SFD_CLOEXEC));
  if (!signals.valid()) throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));
  return signals;
}

bool serve_until_stopped(const base::Fd& signals, const Tunnel& tunnel, ControlSocket* control) {
  std::array<pollfd, 3> fds{
      {{signals.get(), POLLIN, 0}, {control ? control->fd() : -1, POLLIN, 0}, {tunnel.stopped_fd(), POLLIN, 0}}};
  for (;;) {
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
    }
    if (control && (fds[1].revents & POLLIN)) control->answer(tunnel.status_report());
    if (fds[2].revents & POLLIN) return false;
    if (!(fds[0].revents & POLLIN)) continue;
    signalfd_siginfo info{};
    if (read(signals.get(), &info, sizeof info) != static_cast<ssize_t>(sizeof info)) continue;
    if (info.ssi_signo == SIGUSR1) {
      log_report("counters: " + tunnel.counters_report());
    } else if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT) {
      log_info(std::string("stopping on ") + (info.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT"));
      return true;
    }
  }
}

}  // namespace squtun::daemon
