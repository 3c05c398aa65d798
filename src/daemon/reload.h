#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>

#include "base/endpoint.h"
#include "crypto/secret.h"
#include "daemon/startup.h"
#include "net/helper_process.h"

namespace squtun::daemon {

// What a reload (SIGHUP) may change while the tunnel runs.
struct LiveSettings {
  crypto::Key key;
  std::optional<crypto::Key> next_key;
  std::optional<base::Endpoint> peer;  // -p/-r as looked up now; none on a passive end
  std::string peer_host;
  std::uint16_t peer_port = 0;
  unsigned keepalive_seconds = 0;
  std::optional<unsigned> clock_skew_seconds;
  int verbosity = 0;
};

// Reads the config and key files for a reload in a helper process forked during setup, which
// keeps the credentials and the file system the daemon started with: the daemon itself then
// drops privileges, may be chrooted, and may not open files.
class Reloader {
 public:
  // `running`: the settings the daemon started with; a reload may not move a passive end to
  // a fixed peer or back. `family`: the address family peers are looked up in.
  static Reloader spawn(Reread reread, const Settings& running, base::Endpoint::Family family);

  int fd() const { return helper_.fd(); }
  // Asks for a reload; false while one is under way (that one will answer).
  bool request() { return helper_.request(); }
  // The settings of the last request once they arrived, or why the reload is refused.
  std::optional<std::variant<LiveSettings, std::string>> take_result();

 private:
  explicit Reloader(net::HelperProcess helper) : helper_(std::move(helper)) {}
  net::HelperProcess helper_;
};

}  // namespace squtun::daemon
