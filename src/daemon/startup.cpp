#include "daemon/startup.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "crypto/key_file.h"
#include "daemon/control_socket.h"
#include "daemon/detach.h"
#include "daemon/device_setup.h"
#include "daemon/file_keeper.h"
#include "daemon/log.h"
#include "daemon/pid_file.h"
#include "daemon/privileges.h"
#include "daemon/reload.h"
#include "daemon/seccomp_filter.h"
#include "daemon/status_report.h"
#include "daemon/tunnel.h"
#include "net/resolve.h"
#include "net/resolver_process.h"
#include "tun/tun_device.h"

namespace squtun::daemon {
namespace {

// Every online CPU: the reading threads keep small batches to themselves
// (Tunnel::kMinSharedBytes), so a worker beside each costs little where it does not help.
std::size_t thread_count(const Settings& s) {
  if (s.threads > 0) return s.threads;
  return static_cast<std::size_t>(std::clamp(sysconf(_SC_NPROCESSORS_ONLN), 1L, long{kMaxThreads}));
}

// The local address of -b, with the -l port.
std::optional<base::Endpoint> bind_endpoint(const Settings& s) {
  if (!s.bind_address) return std::nullopt;
  return net::parse_address(*s.bind_address, s.listen_port);
}

// A socket bound to one address (-b) reaches only peers of its family.
base::Endpoint::Family peer_family(const Settings& s) {
  return s.bind_address ? bind_endpoint(s)->family : base::Endpoint::Family::None;
}

protocol::PeerConfig peer_config(const Settings& s) {
  protocol::PeerConfig config;
  if (s.peer_host)
    config.fixed_endpoint = net::resolve_endpoint(*s.peer_host, *s.peer_port, peer_family(s));
  config.persistent_keepalive = std::chrono::seconds(s.keepalive_seconds);
  if (s.clock_skew_seconds) config.max_clock_skew = std::chrono::seconds(*s.clock_skew_seconds);
  return config;
}

void check_interface_exists(const Settings& s) {
  if (geteuid() != 0 && !tun::interface_exists(s.interface)) {
    throw std::runtime_error("-i " + s.interface +
                             ": no such interface; create it as root with: ip tuntap add dev " +
                             s.interface + (s.tap ? " mode tap" : " mode tun") + " user $(id -un)");
  }
}

// An existing TAP device (SquTUN's README makes one with `tunctl -t tun0`) is used as TAP even
// without --tap, so SquTUN's ifupdown stanza works as written; both ends then carry Ethernet
// frames.
tun::TunDevice open_device(const Settings& s) {
  if (s.tap) return tun::TunDevice::open(s.interface, tun::Mode::Tap);
  if (tun::existing_device_mode(s.interface) == tun::Mode::Tap) {
    log_info(s.interface + " is a TAP device (as tunctl makes them): carrying Ethernet frames");
    return tun::TunDevice::open(s.interface, tun::Mode::Tap);
  }
  return tun::TunDevice::open(s.interface, tun::Mode::Tun, s.offload);
}

net::UdpSocket open_socket(const Settings& s) {
  const net::SocketOptions options{.offload = s.offload};
  const auto local = bind_endpoint(s);
  return local ? net::UdpSocket::bind_to(*local, options)
               : net::UdpSocket::bind_any(s.listen_port, options);
}

void log_offloads(const tun::TunDevice& tun, const net::UdpSocket& socket) {
  auto on_off = [](bool on) { return on ? "on" : "off"; };
  log_debug(std::string("offloads: TUN TSO ") + on_off(tun.offloads().tso) + ", USO " +
            on_off(tun.offloads().uso) + "; UDP GSO " + on_off(socket.gso_enabled()) + ", GRO " +
            on_off(socket.gro_enabled()));
}

// `squtun show` must not cost a tunnel: without a writable directory it only warns.
std::unique_ptr<ControlSocket> open_control_socket(const std::string& path) {
  try {
    ensure_pid_directory(path);
    return std::make_unique<ControlSocket>(path);
  } catch (const std::exception& e) {
    log_warning(std::string(e.what()) + "; 'squtun show' will not work");
    return nullptr;
  }
}

// -p: a helper process looks the peer's name up again whenever handshakes go unanswered
// (net/resolver_process.h); also for an address, which a reload may replace by a name. It runs
// as the daemon will (--user), but outside --chroot, where /etc/hosts and /etc/resolv.conf are.
std::optional<net::ResolverProcess> peer_name_resolver(const Settings& s,
                                                       const std::optional<TargetUser>& user) {
  if (!s.peer_host) return std::nullopt;
  return net::ResolverProcess::spawn(
      [family = peer_family(s)](const std::string& host, std::uint16_t port) {
        return net::resolve_endpoint(host, port, family);
      },
      [&user] { drop_privileges(user, std::nullopt); });
}

// The signals the daemon handles: blocked in every thread, read only by serve().
sigset_t daemon_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGTERM, SIGINT, SIGUSR1, SIGHUP}) sigaddset(&set, sig);
  return set;
}

// The phases, in order. Each takes what the one before returned, so none can run early.

// 1. Everything that can be refused, while a refusal still reaches the terminal and the
// process still has the privileges a device, its addresses or a port may need. Needs nothing
// before it.
struct Opened {
  const Settings& settings;
  crypto::Key key;
  std::optional<crypto::Key> next_key;  // --next-key
  protocol::PeerConfig peer;
  std::optional<TargetUser> user;  // looked up while /etc/passwd is in reach
  tun::TunDevice tun;
  net::UdpSocket socket;
};

Opened open_devices(const Settings& s) {
  configure_log(log_level_for_verbosity(s.verbosity), LogSink::Stderr);
  crypto::Key key = crypto::load_key_file(s.key_file);
  std::optional<crypto::Key> next_key;
  if (s.next_key_file) next_key = crypto::load_key_file(*s.next_key_file);
  check_interface_exists(s);
  protocol::PeerConfig peer = peer_config(s);
  std::optional<TargetUser> user;
  if (s.user) user = lookup_user(*s.user);
  tun::TunDevice tun = open_device(s);
  configure_device(s, tun, peer);
  net::UdpSocket socket = open_socket(s);
  log_offloads(tun, socket);
  return {s, std::move(key), std::move(next_key), std::move(peer), std::move(user), std::move(tun), std::move(socket)};
}

// 2. Needs Opened: what fails from here on is reported through the detacher. Blocks the
// daemon's signals before the fork, so that every process and thread made later inherits it.
struct Detached : Opened {
  Detacher& detacher;
};

Detached detach(Opened&& opened, Detacher& detacher) {
  const sigset_t signals = daemon_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  if (!opened.settings.foreground) detacher.detach();
  return {std::move(opened), detacher};
}

// 3. Needs Detached, so that the pid file holds the detached process's pid. With --user or
// --chroot the files' keeper is forked, which needs a process of one thread, the paths in
// reach and the credentials that created the files.
struct FilesClaimed : Detached {
  std::unique_ptr<PidFile> pidfile;
  std::unique_ptr<ControlSocket> control;
  std::unique_ptr<FileKeeper> keeper;
};

FilesClaimed claim_files(Detached&& d, const std::optional<std::string>& pidfile_path,
                         const std::string& control_path) {
  std::unique_ptr<PidFile> pidfile;
  if (pidfile_path) {
    ensure_pid_directory(*pidfile_path);
    pidfile = std::make_unique<PidFile>(*pidfile_path);
  }
  auto control = open_control_socket(control_path);
  if (control && d.user) control->give_to(d.user->uid, d.user->gid);
  std::vector<std::string> ours;
  if (pidfile) ours.push_back(pidfile->path());
  if (control) ours.push_back(control->path());
  std::unique_ptr<FileKeeper> keeper;
  if (!ours.empty() && (d.user || d.settings.chroot_dir)) keeper = std::make_unique<FileKeeper>(ours);
  return {std::move(d), std::move(pidfile), std::move(control), std::move(keeper)};
}

// 4. Builds the tunnel (no thread yet) and forks the peer name's resolver: after Detached, so
// that the resolver is the detached daemon's child, and like the pid file's keeper while the
// process has one thread (fork copies only the caller) and is outside --chroot.
// The reload helper (daemon/reload.h) keeps the credentials the daemon started with, so that it
// reads what the daemon read at start, and stays outside --chroot.
struct HelpersForked : FilesClaimed {
  std::unique_ptr<Tunnel> tunnel;
  Reloader reloader;
};

HelpersForked fork_helpers(FilesClaimed&& f, Reread reread) {
  auto tunnel = std::make_unique<Tunnel>(std::move(f.tun), std::move(f.socket), f.key,
                                         f.next_key ? &*f.next_key : nullptr, f.peer, thread_count(f.settings));
  if (f.settings.clamp_mss) tunnel->clamp_mss();
  if (auto resolver = peer_name_resolver(f.settings, f.user))
    tunnel->follow_peer_name(*f.settings.peer_host, *f.settings.peer_port, std::move(*resolver));
  Reloader reloader = Reloader::spawn(std::move(reread), f.settings, peer_family(f.settings));
  return {std::move(f), std::move(tunnel), std::move(reloader)};
}

// 5. Needs HelpersForked: nothing is left to do that needs root or the whole file system.
// Connects to syslog before the chroot, which puts /dev/log out of reach.
struct Unprivileged : HelpersForked {};

Unprivileged shed_privileges(HelpersForked&& h) {
  if (h.detacher.detached())
    configure_log(log_level_for_verbosity(h.settings.verbosity), LogSink::Syslog);
  drop_privileges(h.user, h.settings.chroot_dir);
  return {std::move(h)};
}

// 6. Needs Unprivileged, so that no data-path thread ever runs with privileges.
struct Running : Unprivileged {};

Running start_threads(Unprivileged&& u) {
  u.tunnel->start();
  const Settings& s = u.settings;
  log_info(
      "tunnel up on " + s.interface + ", listening on UDP port " + std::to_string(s.listen_port) +
      (s.peer_host ? ", peer " + u.peer.fixed_endpoint->to_string() : ", waiting for the peer"));
  return {std::move(u)};
}

// 7. Needs Running: the seccomp filter forbids making threads. What else it forbids is done
// first: opening the signal descriptor, and reporting ready (which points stdin, stdout and
// stderr at /dev/null). Not dumpable either, so no debugger of the same user reaches the keys.
// Sanitizer builds skip both layers, since LeakSanitizer needs ptrace at exit.
struct Confined : Running {
  base::Fd signals;
};

Confined confine(Running&& r) {
  const sigset_t set = daemon_signals();
  base::Fd signals(signalfd(-1, &set, SFD_CLOEXEC));
  if (!signals.valid()) throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));
  r.detacher.report_ready();
#ifndef SQUTUN_SANITIZER_BUILD
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  confine_system_calls();
#endif
  return {std::move(r), std::move(signals)};
}

// A reload's outcome: applied, or refused with the running tunnel untouched.
void finish_reload(Confined& d) {
  auto result = d.reloader.take_result();
  if (!result) return;
  if (const auto* refused = std::get_if<std::string>(&*result)) {
    log_error("reload refused, still running as before: " + *refused);
    return;
  }
  const LiveSettings& live = std::get<LiveSettings>(*result);
  // Logged whatever -q says, as the administrator asked for the reload.
  log_report("reloaded: key " + crypto::key_fingerprint(live.key) + ", next key " +
           (live.next_key ? crypto::key_fingerprint(*live.next_key) : "none") + ", keepalive " +
           std::to_string(live.keepalive_seconds) + " s, clock skew " +
           (live.clock_skew_seconds ? std::to_string(*live.clock_skew_seconds) + " s" : "unchecked") +
           (live.peer ? ", peer " + live.peer_host + " (" + live.peer->to_string() + ")" : std::string()));
  set_log_level(log_level_for_verbosity(live.verbosity));
  d.tunnel->reload(live);
}

// Then until SIGTERM or SIGINT (true) or the tunnel stops on its own, its device gone (false):
// the counters in the log on SIGUSR1, a reload on SIGHUP, the status to each connection to the
// control socket.
bool serve(Confined& d) {
  std::array<pollfd, 4> fds{{{d.signals.get(), POLLIN, 0},
                             {d.control ? d.control->fd() : -1, POLLIN, 0},
                             {d.reloader.fd(), POLLIN, 0},
                             {d.tunnel->stopped_fd(), POLLIN, 0}}};
  for (;;) {
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
    }
    if (d.control && (fds[1].revents & POLLIN)) d.control->answer(show_text(d.tunnel->status()));
    if (fds[2].revents != 0) finish_reload(d);
    if (fds[3].revents & POLLIN) return false;
    if (!(fds[0].revents & POLLIN)) continue;
    signalfd_siginfo info{};
    if (read(d.signals.get(), &info, sizeof info) != static_cast<ssize_t>(sizeof info)) continue;
    if (info.ssi_signo == SIGUSR1) {
      log_report("counters: " + counters_line(d.tunnel->status()));
    } else if (info.ssi_signo == SIGHUP) {
      log_info(d.reloader.request() ? "SIGHUP: reloading the config and key files" : "SIGHUP: a reload is under way");
    } else if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT) {
      log_info(std::string("stopping on ") + (info.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT"));
      return true;
    }
  }
}

}  // namespace

int run_daemon(const Settings& settings, const std::optional<std::string>& pidfile,
               const std::string& control_socket, Reread reread) {
  Detacher detacher;
  Detached detached = detach(open_devices(settings), detacher);
  try {
    Confined daemon = confine(start_threads(shed_privileges(
        fork_helpers(claim_files(std::move(detached), pidfile, control_socket), std::move(reread)))));
    const bool signalled = serve(daemon);
    daemon.tunnel->stop();
    if (!signalled) return EXIT_FAILURE;
  } catch (const std::exception& e) {
    if (!detacher.detached()) throw;
    log_error(e.what());
    detacher.report_failure(e.what());
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}

}  // namespace squtun::daemon
