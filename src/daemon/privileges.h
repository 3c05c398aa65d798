#pragma once

#include <optional>
#include <string>
#include <vector>
#include <sys/types.h>

namespace squtun::daemon {

struct TargetUser {
  std::string name;
  uid_t uid;
  gid_t gid;
  std::vector<gid_t> groups;  // supplementary, looked up while /etc/group is in reach
};

// Becomes `user` for good: supplementary groups, gid, uid.
void become_user(const TargetUser& user);

// Looks the --user up (before any chroot hides /etc/passwd). Throws std::runtime_error
// naming the user.
TargetUser lookup_user(const std::string& name);

// Confines the process to chroot_dir, then becomes `user` (supplementary groups, gid,
// uid) for good. Requires root for either step. Throws std::runtime_error naming the
// step that failed.
void drop_privileges(const std::optional<TargetUser>& user, const std::optional<std::string>& chroot_dir);

}  // namespace squtun::daemon
