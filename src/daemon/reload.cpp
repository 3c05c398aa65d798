#include "daemon/reload.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "crypto/key_file.h"
#include "net/resolve.h"

namespace squtun::daemon {
namespace {

// LiveSettings as the helper sends them: one trivially copyable message, wiped after use.
struct Wire {
  std::uint8_t key[crypto::kKeySize];
  std::uint8_t next_key[crypto::kKeySize];
  bool has_next_key, has_peer, has_clock_skew;
  base::Endpoint peer;
  std::uint16_t peer_port;
  std::uint32_t keepalive_seconds, clock_skew_seconds;
  std::int32_t verbosity;
  char peer_host[256];  // a DNS name has at most 253 characters
};

std::vector<std::uint8_t> read_live_settings(const Reread& reread, bool passive, base::Endpoint::Family family) {
  const Settings s = reread();
  if (s.peer_host.has_value() == passive)
    throw std::runtime_error(passive ? "-p: a passive end takes a fixed peer only after a restart"
                                     : "-p: an end with a fixed peer becomes passive only after a restart");
  if (s.peer_host && s.peer_host->size() >= sizeof Wire::peer_host)
    throw std::runtime_error("-p " + *s.peer_host + ": longer than a host name can be");
  Wire w{};
  std::copy_n(crypto::load_key_file(s.key_file).data(), crypto::kKeySize, w.key);
  if (s.next_key_file) {
    std::copy_n(crypto::load_key_file(*s.next_key_file).data(), crypto::kKeySize, w.next_key);
    w.has_next_key = true;
  }
  if (s.peer_host) {
    w.peer = net::resolve_endpoint(*s.peer_host, *s.peer_port, family);
    w.has_peer = true;
    w.peer_port = *s.peer_port;
    std::strncpy(w.peer_host, s.peer_host->c_str(), sizeof w.peer_host - 1);
  }
  w.keepalive_seconds = s.keepalive_seconds;
  w.has_clock_skew = s.clock_skew_seconds.has_value();
  w.clock_skew_seconds = s.clock_skew_seconds.value_or(0);
  w.verbosity = s.verbosity;
  auto bytes = net::bytes_of(w);
  OPENSSL_cleanse(&w, sizeof w);
  return bytes;
}

LiveSettings live_settings(const Wire& w) {
  LiveSettings live;
  live.key = crypto::Key(std::span<const std::uint8_t, crypto::kKeySize>(w.key));
  if (w.has_next_key) live.next_key = crypto::Key(std::span<const std::uint8_t, crypto::kKeySize>(w.next_key));
  if (w.has_peer) live.peer = w.peer;
  live.peer_host = std::string(w.peer_host, strnlen(w.peer_host, sizeof w.peer_host));
  live.peer_port = w.peer_port;
  live.keepalive_seconds = w.keepalive_seconds;
  if (w.has_clock_skew) live.clock_skew_seconds = w.clock_skew_seconds;
  live.verbosity = w.verbosity;
  return live;
}

}  // namespace

Reloader Reloader::spawn(Reread reread, const Settings& running, base::Endpoint::Family family) {
  const bool passive = !running.peer_host;
  return Reloader(net::HelperProcess::spawn(
      "reload", [reread = std::move(reread), passive, family](std::span<const std::uint8_t>) {
        return read_live_settings(reread, passive, family);
      }));
}

std::optional<std::variant<LiveSettings, std::string>> Reloader::take_result() {
  auto result = helper_.take_result();
  if (!result) return std::nullopt;
  if (!result->reply) return result->error;
  auto wire = net::value_of<Wire>(*result->reply);
  OPENSSL_cleanse(result->reply->data(), result->reply->size());
  if (!wire) return std::string("the reload helper sent a malformed answer");
  LiveSettings live = live_settings(*wire);
  OPENSSL_cleanse(&*wire, sizeof *wire);
  return live;
}

}  // namespace squtun::daemon
