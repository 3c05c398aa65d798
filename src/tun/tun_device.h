#pragma once

#include <sys/uio.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "base/fd.h"

namespace squtun::tun {

enum class Mode { Tun, Tap };

// What the kernel agreed to on the device: with a vnet header every read and write starts
// with a struct virtio_net_hdr, and reads may return GSO super-packets (TSO, USO) whose
// checksums the reader must complete.
struct Offloads {
  bool vnet_header = false;
  bool tso = false;  // TCP segmentation, IPv4 and IPv6
  bool uso = false;  // UDP segmentation (Linux 6.2 and later)
};

// A TUN (IP packets) or TAP (Ethernet frames) device opened through /dev/net/tun without
// packet information headers. Attaches to an existing persistent device owned by the
// caller, or creates a transient one when the caller may (CAP_NET_ADMIN).
class TunDevice {
 public:
  // Throws std::runtime_error naming the interface and how to fix the cause (permission
  // on /dev/net/tun, device owned by another user, wrong mode, ...).
  // With `offload` (TUN mode only), asks for a vnet header and checksum, TSO and USO
  // offloads, taking what the kernel grants; without it, clears any offloads a previous
  // owner left on a persistent device, so every read is one plain packet.
  static TunDevice open(const std::string& name, Mode mode, bool offload = false);

  int fd() const { return fd_.get(); }
  const std::string& name() const { return name_; }
  Mode mode() const { return mode_; }
  const Offloads& offloads() const { return offloads_; }

  // Non-blocking read of one packet; returns its size, 0 if none is waiting, -1 on error
  // (errno set).
  long read_packet(std::span<std::uint8_t> buf);
  // Writes one packet; false on error (errno set).
  bool write_packet(std::span<const std::uint8_t> packet);
  // Writes one packet gathered from pieces (with a vnet header: the header first).
  bool write_gathered(std::span<const iovec> pieces);

 private:
  TunDevice(base::Fd fd, std::string name, Mode mode)
      : fd_(std::move(fd)), name_(std::move(name)), mode_(mode) {}
  base::Fd fd_;
  std::string name_;
  Mode mode_ = Mode::Tun;
  Offloads offloads_;
};

// The kind of an existing TUN/TAP interface (from sysfs), or nothing if there is no such
// interface or it is not one. Debian's tunctl (`tunctl -t tun0`) makes TAP devices.
std::optional<Mode> existing_device_mode(const std::string& name);

// True if an interface of that name exists in this network namespace.
bool interface_exists(const std::string& name);

// Checks an interface name's syntax (1..15 bytes, no '/', ':' or whitespace); returns an
// empty string if fine, else the reason.
std::string interface_name_problem(const std::string& name);

}  // namespace squtun::tun
