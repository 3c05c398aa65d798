#include "tun/tun_device.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../net/fresh_netns.h"

namespace squtun::tun {
namespace {

constexpr uid_t kNobody = 65534;

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

// Returns "" if open throws and its message contains every fragment, else what differed.
std::string expect_open_fails(const std::string& name, Mode mode,
                              const std::vector<std::string>& fragments) {
  try {
    TunDevice::open(name, mode);
    return "opening " + name + " succeeded unexpectedly";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    for (const std::string& fragment : fragments) {
      if (message.find(fragment) == std::string::npos) {
        return "message lacks '" + fragment + "': " + message;
      }
    }
    return "";
  }
}

// Gives this child its own /dev/net/tun (a private mount namespace with a fresh device
// node) so the test can change the node's permissions without touching the host's.
std::string use_private_clone_device(mode_t permissions) {
  if (::unshare(CLONE_NEWNS) != 0) return errno_text("unshare(CLONE_NEWNS)");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return errno_text("make / private");
  }
  if (::mount("tmpfs", "/dev/net", "tmpfs", 0, nullptr) != 0) return errno_text("mount tmpfs");
  if (::mknod("/dev/net/tun", S_IFCHR | permissions, ::makedev(10, 200)) != 0 ||
      ::chmod("/dev/net/tun", permissions) != 0) {
    return errno_text("mknod /dev/net/tun");
  }
  return "";
}

// What an administrator's "ip tuntap add dev NAME mode tun user OWNER" leaves behind.
std::string create_persistent_tun(const std::string& name, uid_t owner) {
  const int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) return errno_text("open /dev/net/tun");
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  const bool made = ::ioctl(fd, TUNSETIFF, &ifr) == 0 && ::ioctl(fd, TUNSETOWNER, owner) == 0 &&
                    ::ioctl(fd, TUNSETPERSIST, 1) == 0;
  const std::string problem = made ? "" : errno_text("create persistent " + name);
  ::close(fd);
  return problem;
}

std::string become_nobody() {
  if (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
      ::setresuid(kNobody, kNobody, kNobody) != 0) {
    return errno_text("drop to uid 65534");
  }
  return "";
}

class TunDeviceAsRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "creating TUN devices needs root";
  }
};

TEST_F(TunDeviceAsRoot, CreatesTransientTunDevice) {
  EXPECT_EQ(test::run_in_fresh_netns([]() -> std::string {
              TunDevice device = TunDevice::open("sqt0", Mode::Tun);
              if (device.name() != "sqt0") return "name is " + device.name();
              if (device.mode() != Mode::Tun) return "mode is not TUN";
              if (device.fd() < 0) return "no descriptor";
              if (!interface_exists("sqt0")) return "sqt0 not visible after open";
              return "";
            }),
            "");
}

TEST_F(TunDeviceAsRoot, OffloadsAreAskedForOnlyWhenWanted) {
  EXPECT_EQ(test::run_in_fresh_netns([]() -> std::string {
              {
                TunDevice device = TunDevice::open("sqt0", Mode::Tun, true);
                const Offloads& o = device.offloads();
                if (!o.vnet_header || !o.tso) return "offload: no vnet header or no TSO granted";
              }
              {
                TunDevice device = TunDevice::open("sqt0", Mode::Tun, false);
                const Offloads& o = device.offloads();
                if (o.vnet_header || o.tso || o.uso) return "no offload asked, yet some reported";
              }
              TunDevice tap = TunDevice::open("sqt1", Mode::Tap, true);
              return tap.offloads().vnet_header ? "a TAP device got a vnet header" : "";
            }),
            "");
}

TEST_F(TunDeviceAsRoot, TransientDeviceVanishesWhenClosed) {
  EXPECT_EQ(test::run_in_fresh_netns([]() -> std::string {
              { TunDevice device = TunDevice::open("sqt0", Mode::Tun); }
              return interface_exists("sqt0") ? "sqt0 outlived its descriptor" : "";
            }),
            "");
}

TEST_F(TunDeviceAsRoot, ReadOnDownDeviceReturnsNothing) {
  EXPECT_EQ(test::run_in_fresh_netns([]() -> std::string {
              TunDevice device = TunDevice::open("sqt0", Mode::Tun);
              std::array<std::uint8_t, 2048> buffer{};
              const long n = device.read_packet(buffer);
              return n == 0 ? "" : "read_packet returned " + std::to_string(n);
            }),
            "");
}

TEST_F(TunDeviceAsRoot, MoveTransfersOwnership) {
  EXPECT_EQ(test::run_in_fresh_netns([]() -> std::string {
              TunDevice first = TunDevice::open("sqt0", Mode::Tun);
              const int fd = first.fd();
              TunDevice second = std::move(first);
              if (second.fd() != fd || second.name() != "sqt0") return "move lost the device";
              first = std::move(second);
              return first.fd() == fd ? "" : "move assignment lost the device";
            }),
            "");
}

TEST_F(TunDeviceAsRoot, OpeningTunAsTapNamesTheInterface) {
  EXPECT_EQ(test::run_in_fresh_netns([] {
              TunDevice tun = TunDevice::open("sqt0", Mode::Tun);
              return expect_open_fails("sqt0", Mode::Tap, {"sqt0", "TAP"});
            }),
            "");
}

TEST_F(TunDeviceAsRoot, OpeningNonTunInterfaceFails) {
  EXPECT_EQ(test::run_in_fresh_netns([] { return expect_open_fails("lo", Mode::Tun, {"lo"}); }),
            "");
}

TEST_F(TunDeviceAsRoot, SecondOpenOfBusyDeviceSaysInUse) {
  EXPECT_EQ(test::run_in_fresh_netns([] {
              TunDevice first = TunDevice::open("sqt0", Mode::Tun);
              return expect_open_fails("sqt0", Mode::Tun, {"sqt0", "in use"});
            }),
            "");
}

// The name is checked before /dev/net/tun is opened, so this needs no privileges.
TEST(TunDeviceOpen, InvalidNameIsRejectedBeforeTheKernel) {
  EXPECT_EQ(expect_open_fails("bad/name", Mode::Tun, {"bad/name", "'/'"}), "");
}

TEST_F(TunDeviceAsRoot, UnprivilegedUserAttachesToOwnPersistentDevice) {
  EXPECT_EQ(test::run_in_fresh_netns([]() -> std::string {
              for (const std::string& step :
                   {use_private_clone_device(0666), create_persistent_tun("sqt0", kNobody),
                    become_nobody()}) {
                if (!step.empty()) return step;
              }
              TunDevice device = TunDevice::open("sqt0", Mode::Tun);
              return device.name() == "sqt0" ? "" : "attached to " + device.name();
            }),
            "");
}

TEST_F(TunDeviceAsRoot, UnprivilegedUserGetsRecreateAdviceForForeignDevice) {
  EXPECT_EQ(test::run_in_fresh_netns([]() -> std::string {
              for (const std::string& step :
                   {use_private_clone_device(0666), create_persistent_tun("sqt0", 0),
                    become_nobody()}) {
                if (!step.empty()) return step;
              }
              return expect_open_fails(
                  "sqt0", Mode::Tun,
                  {"interface sqt0 exists but is not a TUN device owned by this user (uid 65534)",
                   "ip tuntap add dev sqt0 mode tun user "});
            }),
            "");
}

TEST_F(TunDeviceAsRoot, UnprivilegedUserGetsCreateAdviceForMissingDevice) {
  EXPECT_EQ(test::run_in_fresh_netns([]() -> std::string {
              for (const std::string& step : {use_private_clone_device(0666), become_nobody()}) {
                if (!step.empty()) return step;
              }
              return expect_open_fails(
                  "sqt0", Mode::Tap,
                  {"interface sqt0 does not exist and creating it needs root",
                   "ip tuntap add dev sqt0 mode tap user "});
            }),
            "");
}

TEST_F(TunDeviceAsRoot, UnreadableCloneDeviceExplainsTheGroupFix) {
  EXPECT_EQ(test::run_in_fresh_netns([]() -> std::string {
              for (const std::string& step : {use_private_clone_device(0600), become_nobody()}) {
                if (!step.empty()) return step;
              }
              return expect_open_fails("sqt0", Mode::Tun,
                                       {"/dev/net/tun", "chmod 660 /dev/net/tun", "group tun"});
            }),
            "");
}

}  // namespace
}  // namespace squtun::tun
