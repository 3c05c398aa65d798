#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace squtun::daemon {

enum class LogLevel { Error = 0, Warning = 1, Info = 2, Debug = 3 };

enum class LogSink { Stderr, Syslog };

// Where and how much to log: quiet by default (errors and warnings), -q errors only, -v
// adds the tunnel's life (start, handshakes, peer address), -vv protocol detail. Nothing is
// logged per packet: the data path counts drops by reason (SIGUSR1 reports them), and a
// warning that can repeat (once per packet or per handshake attempt) goes through
// log_limited below.
//
// Stderr under systemd: when stderr is the journal (JOURNAL_STREAM names it), each line
// starts with the syslog priority, "<4>warning: ...", so the journal records the right
// priority (journalctl -p warning) and shows no redundant "squtun: " before it.
void configure_log(LogLevel max_level, LogSink sink);
LogLevel log_level_for_verbosity(int verbosity);

bool log_enabled(LogLevel level);
// A reload's -v/-q: the sink stays.
void set_log_level(LogLevel max_level);
void log_message(LogLevel level, std::string_view message);

// Logs what the user asked for (SIGUSR1's counters) whatever the level.
void log_report(std::string_view message);

inline void log_error(std::string_view m) { log_message(LogLevel::Error, m); }
inline void log_warning(std::string_view m) { log_message(LogLevel::Warning, m); }
inline void log_info(std::string_view m) { log_message(LogLevel::Info, m); }
inline void log_debug(std::string_view m) { log_message(LogLevel::Debug, m); }

// --- Repeated messages ------------------------------------------------------------------
//
// Lets through at most `burst` messages per key in each `window` (a window opens with the
// first message after the previous one ended) and counts the rest. The count is reported
// once, as "suppressed K similar messages (KEY) in the last S s": before the key's next
// message in a later window, or by take_summaries once the window is over. Pure logic: the
// caller passes the time. Not thread-safe (the global log_limited below locks around it).
class RateLimitedLog {
 public:
  using Clock = std::chrono::steady_clock;

  struct Config {
    std::size_t burst = 5;
    Clock::duration window = std::chrono::minutes(1);
    std::size_t max_keys = 64;  // beyond that, the key whose window opened first is forgotten
  };

  struct Summary {
    std::string key;
    std::uint64_t suppressed = 0;
    Clock::duration span{};  // from the window's opening to the summary
  };

  struct Verdict {
    bool log = false;                // log this message
    std::vector<Summary> summaries;  // first log these (at most one: this key's last window)
  };

  RateLimitedLog() : RateLimitedLog(Config{}) {}
  explicit RateLimitedLog(Config config) : config_(config) {}

  Verdict admit(std::string_view key, Clock::time_point now);

  // Summaries of the keys whose window is over and that suppressed messages in it (all keys
  // with suppressed messages if `all`, e.g. at exit); their counts start again from zero.
  std::vector<Summary> take_summaries(Clock::time_point now, bool all);

  // Some message was suppressed and not yet summarised.
  bool pending() const { return pending_ > 0; }

  static std::string summary_text(const Summary& summary);

 private:
  struct Window {
    Clock::time_point opened;
    std::size_t logged = 0;
    std::uint64_t suppressed = 0;
  };

  Config config_;
  std::map<std::string, Window, std::less<>> windows_;
  std::size_t pending_ = 0;  // windows with suppressed > 0
};

// Logs a message that may repeat often (per packet, per handshake attempt), at most 5 lines
// per key a minute, then one "suppressed K similar messages (KEY)" line. The key names the
// kind of message (a constant such as "tun-write"), not its details. The second form builds
// the message only if it is logged, for calls on the data path.
bool log_limited_admit(LogLevel level, std::string_view key);

inline void log_limited(LogLevel level, std::string_view key, std::string_view message) {
  if (log_limited_admit(level, key)) log_message(level, message);
}

template <typename MakeMessage>
  requires std::invocable<MakeMessage>
void log_limited(LogLevel level, std::string_view key, MakeMessage&& make_message) {
  if (log_limited_admit(level, key)) log_message(level, std::forward<MakeMessage>(make_message)());
}

template <typename Message>
void log_warning_limited(std::string_view key, Message&& message) {
  log_limited(LogLevel::Warning, key, std::forward<Message>(message));
}

// Logs the summaries of windows that are over (cheap when nothing was suppressed: call it
// from a timer), or of every suppressed message with `all` (at exit).
void log_flush_suppressed(bool all = false);

}  // namespace squtun::daemon
