#pragma once

#include <string>
#include <string_view>

namespace squtun::daemon {

enum class LogLevel { Error = 0, Warning = 1, Info = 2, Debug = 3 };

enum class LogSink { Stderr, Syslog };

// Where and how much to log: quiet by default (errors and warnings), -q errors only, -v
// adds the tunnel's life (start, handshakes, peer address), -vv protocol detail.
void configure_log(LogLevel max_level, LogSink sink);
LogLevel log_level_for_verbosity(int verbosity);

bool log_enabled(LogLevel level);
void log_message(LogLevel level, std::string_view message);

// Logs what the user asked for (SIGUSR1's counters) whatever the level.
void log_report(std::string_view message);

inline void log_error(std::string_view m) { log_message(LogLevel::Error, m); }
inline void log_warning(std::string_view m) { log_message(LogLevel::Warning, m); }
inline void log_info(std::string_view m) { log_message(LogLevel::Info, m); }
inline void log_debug(std::string_view m) { log_message(LogLevel::Debug, m); }

}  // namespace squtun::daemon
