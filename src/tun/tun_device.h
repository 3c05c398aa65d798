#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <optional>
#include <string>

#include <unistd.h>

namespace squtun::tun {

enum class Mode { Tun, Tap };

// A TUN (IP packets) or TAP (Ethernet frames) device opened through /dev/net/tun without
// packet information headers. Attaches to an existing persistent device owned by the
// caller, or creates a transient one when the caller may (CAP_NET_ADMIN).
class TunDevice {
 public:
  // Throws std::runtime_error naming the interface and how to fix the cause (permission
  // on /dev/net/tun, device owned by another user, wrong mode, ...).
  static TunDevice open(const std::string& name, Mode mode);

  TunDevice(TunDevice&& other) noexcept;
  TunDevice& operator=(TunDevice&& other) noexcept;
  TunDevice(const TunDevice&) = delete;
  TunDevice& operator=(const TunDevice&) = delete;
  ~TunDevice();

  int fd() const { return fd_; }
  const std::string& name() const { return name_; }
  Mode mode() const { return mode_; }

  // Non-blocking read of one packet; returns its size, 0 if none is waiting, -1 on error
  // (errno set).
  long read_packet(std::span<std::uint8_t> buf);
  // Writes one packet; false on error (errno set).
  bool write_packet(std::span<const std::uint8_t> packet);

 private:
  TunDevice(int fd, std::string name, Mode mode) : fd_(fd), name_(std::move(name)), mode_(mode) {}
  int fd_ = -1;
  std::string name_;
  Mode mode_ = Mode::Tun;
};

// The kind of an existing TUN/TAP interface (from sysfs), or nothing if there is no such
// interface or it is not one. Debian's tunctl, as the seed uses it, makes TAP devices.
std::optional<Mode> existing_device_mode(const std::string& name);

// True if an interface of that name exists in this network namespace.
bool interface_exists(const std::string& name);

// Checks an interface name's syntax (1..15 bytes, no '/', ':' or whitespace); returns an
// empty string if fine, else the reason.
std::string interface_name_problem(const std::string& name);

}  // namespace squtun::tun
