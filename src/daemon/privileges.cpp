#include "daemon/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace squtun::daemon {
namespace {

std::runtime_error failure(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

void enter_chroot(const std::string& dir) {
  if (chroot(dir.c_str()) != 0)
    throw failure("--chroot " + dir + ": cannot confine the process (needs root and an existing directory)");
  if (chdir("/") != 0) throw failure("--chroot " + dir + ": chdir /");
}

}  // namespace

void become_user(const TargetUser& user) {
  if (setgroups(user.groups.size(), user.groups.data()) != 0) throw failure("--user " + user.name + ": setgroups");
  if (setgid(user.gid) != 0) throw failure("--user " + user.name + ": setgid");
  if (setuid(user.uid) != 0) throw failure("--user " + user.name + ": setuid");
  if (user.uid != 0 && setuid(0) == 0)
    throw std::runtime_error("--user " + user.name + ": root privileges could be regained; refusing to run");
}

TargetUser lookup_user(const std::string& name) {
  errno = 0;
  const passwd* pw = getpwnam(name.c_str());
  if (!pw) {
    throw std::runtime_error("--user " + name + ": no such user" +
                             (errno ? std::string(" (") + std::strerror(errno) + ")" : std::string()));
  }
  TargetUser user{name, pw->pw_uid, pw->pw_gid, {}};
  int count = 16;
  for (int attempt = 0; attempt < 4; ++attempt) {
    user.groups.resize(static_cast<std::size_t>(count));
    if (getgrouplist(name.c_str(), user.gid, user.groups.data(), &count) >= 0) {
      user.groups.resize(static_cast<std::size_t>(count));
      return user;
    }
  }
  throw std::runtime_error("--user " + name + ": cannot list its groups");
}

void drop_privileges(const std::optional<TargetUser>& user, const std::optional<std::string>& chroot_dir) {
  if ((user || chroot_dir) && geteuid() != 0) {
    throw std::runtime_error(std::string(user ? "--user" : "--chroot") +
                             " needs squtun to be started as root; an unprivileged squtun already runs "
                             "with no privileges to drop");
  }
  if (chroot_dir) enter_chroot(*chroot_dir);
  if (user) become_user(*user);
  // Nothing we exec could gain privileges; we exec nothing anyway.
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

}  // namespace squtun::daemon
