#pragma once

#include <string>
#include <string_view>

namespace squtun::daemon {

enum class LogLevel { Error = 0, Warning = 1, Info = 2, Debug = 3 };

enum class LogSink { Stderr, Syslog };

// Where and how much to log: -q keeps errors only, the default adds warnings and the few
// lines that mark the tunnel's life (start, handshake, peer address), each -v adds more.
void configure_log(LogLevel max_level, LogSink sink);
LogLevel log_level_for_verbosity(int verbosity);

bool log_enabled(LogLevel level);
void log_message(LogLevel level, std::string_view message);

inline void log_error(std::string_view m) { log_message(LogLevel::Error, m); }
inline void log_warning(std::string_view m) { log_message(LogLevel::Warning, m); }
inline void log_info(std::string_view m) { log_message(LogLevel::Info, m); }
inline void log_debug(std::string_view m) { log_message(LogLevel::Debug, m); }

}  // namespace squtun::daemon
