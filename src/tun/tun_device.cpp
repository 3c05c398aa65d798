#include "tun/tun_device.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <pwd.h>
#include <sys/ioctl.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <ios>
#include <stdexcept>
#include <utility>

#include "tun/vnet_header.h"

namespace squtun::tun {

namespace {

constexpr const char* kCloneDevice = "/dev/net/tun";


const char* mode_word(Mode mode) { return mode == Mode::Tun ? "tun" : "tap"; }
const char* mode_title(Mode mode) { return mode == Mode::Tun ? "TUN" : "TAP"; }
Mode other_mode(Mode mode) { return mode == Mode::Tun ? Mode::Tap : Mode::Tun; }
short mode_flag(Mode mode) { return mode == Mode::Tun ? IFF_TUN : IFF_TAP; }

std::string current_user() {
  const uid_t uid = ::geteuid();
  if (const passwd* pw = ::getpwuid(uid)) return pw->pw_name;
  return std::to_string(uid);
}

std::string create_command(const std::string& name, Mode mode) {
  return "ip tuntap add dev " + name + " mode " + mode_word(mode) + " user " + current_user();
}

[[noreturn]] void throw_clone_device_error(int err) {
  std::string message = std::string("cannot open ") + kCloneDevice + ": " + std::strerror(err);
  if (err == EACCES || err == EPERM) {
    message += std::string("; it is not readable and writable by this user (uid ") +
               std::to_string(::geteuid()) +
               "); give group tun rw access (chgrp tun /dev/net/tun; chmod 660 /dev/net/tun) "
               "and add the user to group tun, as README 'Install' describes";
  } else if (err == ENOENT || err == ENODEV || err == ENXIO) {
    message += "; the kernel's tun driver is missing: load it with 'modprobe tun'";
  }
  throw std::runtime_error(message);
}

std::string attach_error_reason(const std::string& name, Mode mode, int err) {
  switch (err) {
    case EPERM:
      if (interface_exists(name)) {
        return "interface " + name + " exists but is not a " + mode_title(mode) +
               " device owned by this user (uid " + std::to_string(::geteuid()) +
               "); recreate it with: ip link delete " + name + "; " + create_command(name, mode);
      }
      return "interface " + name + " does not exist and creating it needs root; create it with: " +
             create_command(name, mode);
    case EINVAL:
      // The kernel answers EINVAL when the name belongs to a device of another kind.
      return "interface " + name + " exists but cannot be opened as a " + mode_title(mode) +
             " device (it is a " + mode_title(other_mode(mode)) +
             " device, a multi-queue device or another kind of interface); pick another name, or "
             "if it is a leftover tunnel device, delete it with: ip link delete " + name;
    case EBUSY:
      return "interface " + name + " is already in use by another process (another squtun?)";
    default:
      return "cannot attach to interface " + name + ": " + std::strerror(err);
  }
}

ifreq request_for(const std::string& name, Mode mode, bool vnet_header) {
  ifreq ifr{};
  ifr.ifr_flags = static_cast<short>(mode_flag(mode) | IFF_NO_PI | (vnet_header ? IFF_VNET_HDR : 0));
  std::memcpy(ifr.ifr_name, name.data(), name.size());  // length checked: < IFNAMSIZ
  return ifr;
}

// Asks for the most the kernel grants: USO needs Linux 6.2; older kernels refuse the
// whole request with EINVAL, so it is retried without USO, then without segmentation.
Offloads negotiate_offloads(int fd) {
  constexpr unsigned kTso = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
  constexpr unsigned kUso = kTunOffloadUso4 | kTunOffloadUso6;
  if (::ioctl(fd, TUNSETOFFLOAD, kTso | kUso) == 0) return {true, true, true};
  if (::ioctl(fd, TUNSETOFFLOAD, kTso) == 0) return {true, true, false};
  // Refused too, reads still come one whole packet at a time, checksums complete.
  ::ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM);
  return {true, false, false};
}

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

}  // namespace

TunDevice TunDevice::open(const std::string& name, Mode mode, bool offload) {
  offload = offload && mode == Mode::Tun;
  if (const std::string problem = interface_name_problem(name); !problem.empty()) {
    throw std::runtime_error("invalid interface name '" + name + "': " + problem);
  }
  const int fd = ::open(kCloneDevice, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw_clone_device_error(errno);
  TunDevice device(base::Fd(fd), name, mode);  // owns fd from here, also when a check below throws

  ifreq ifr = request_for(name, mode, offload);
  if (::ioctl(fd, TUNSETIFF, &ifr) != 0) {
    throw std::runtime_error(attach_error_reason(name, mode, errno));
  }
  // Belt and braces: the kernel matches the mode on attach, but a device that is not what
  // we asked for would corrupt every packet, so confirm it.
  ifreq actual{};
  if (::ioctl(fd, TUNGETIFF, &actual) != 0) {
    throw std::runtime_error("cannot query interface " + name + ": " + std::strerror(errno));
  }
  if ((actual.ifr_flags & (IFF_TUN | IFF_TAP)) != mode_flag(mode)) {
    throw std::runtime_error("interface " + name + " is not a " + mode_title(mode) + " device");
  }
  device.name_ = actual.ifr_name;  // the kernel expands a pattern such as "tun%d"
  if (offload) {
    const int header_size = static_cast<int>(kVnetHeaderSize);
    if (::ioctl(fd, TUNSETVNETHDRSZ, &header_size) != 0) {
      throw std::runtime_error("cannot set the vnet header size on " + name + ": " + std::strerror(errno));
    }
    device.offloads_ = negotiate_offloads(fd);
  } else if (::ioctl(fd, TUNSETOFFLOAD, 0u) != 0) {
    throw std::runtime_error("cannot clear the offloads of interface " + name + ": " + std::strerror(errno));
  }
  return device;
}

long TunDevice::read_packet(std::span<std::uint8_t> buf) {
  const ssize_t n = ::read(fd_.get(), buf.data(), buf.size());
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 0;
  return n;
}

bool TunDevice::write_packet(std::span<const std::uint8_t> packet) {
  ssize_t n;
  do {
    n = ::write(fd_.get(), packet.data(), packet.size());
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(packet.size());
}

bool TunDevice::write_gathered(std::span<const iovec> pieces) {
  std::size_t total = 0;
  for (const iovec& piece : pieces) total += piece.iov_len;
  ssize_t n;
  do {
    n = ::writev(fd_.get(), pieces.data(), static_cast<int>(pieces.size()));
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(total);
}

std::optional<Mode> existing_device_mode(const std::string& name) {
  if (!interface_name_problem(name).empty()) return std::nullopt;
  std::ifstream flags_file("/sys/class/net/" + name + "/tun_flags");
  unsigned flags = 0;
  if (!(flags_file >> std::hex >> flags)) return std::nullopt;
  if (flags & IFF_TAP) return Mode::Tap;
  if (flags & IFF_TUN) return Mode::Tun;
  return std::nullopt;
}

bool interface_exists(const std::string& name) {
  return interface_name_problem(name).empty() && ::if_nametoindex(name.c_str()) != 0;
}

std::string interface_name_problem(const std::string& name) {
  if (name.empty()) return "the name is empty";
  if (name.size() > IFNAMSIZ - 1) {
    return "the name is longer than " + std::to_string(IFNAMSIZ - 1) + " bytes";
  }
  if (name == "." || name == "..") return "the name cannot be '.' or '..'";
  for (const char c : name) {
    if (c == '/' || c == ':') return std::string("the name contains '") + c + "'";
    if (is_space(c)) return "the name contains whitespace";
  }
  return "";
}

}  // namespace squtun::tun
