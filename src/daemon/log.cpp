#include "daemon/log.h"

#include <syslog.h>

#include <atomic>
#include <cstdio>
#include <mutex>

namespace squtun::daemon {
namespace {

std::atomic<LogLevel> g_max_level{LogLevel::Warning};
std::atomic<LogSink> g_sink{LogSink::Stderr};
std::mutex g_stderr_mutex;

int syslog_priority(LogLevel level) {
  switch (level) {
    case LogLevel::Error: return LOG_ERR;
    case LogLevel::Warning: return LOG_WARNING;
    case LogLevel::Info: return LOG_INFO;
    case LogLevel::Debug: return LOG_DEBUG;
  }
  return LOG_INFO;
}

std::string_view level_name(LogLevel level) {
  switch (level) {
    case LogLevel::Error: return "error";
    case LogLevel::Warning: return "warning";
    case LogLevel::Info: return "info";
    case LogLevel::Debug: return "debug";
  }
  return "";
}

}  // namespace

void configure_log(LogLevel max_level, LogSink sink) {
  g_max_level = max_level;
  g_sink = sink;
  if (sink == LogSink::Syslog) openlog("squtun", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

LogLevel log_level_for_verbosity(int verbosity) {
  if (verbosity < 0) return LogLevel::Error;
  if (verbosity == 0) return LogLevel::Warning;
  if (verbosity == 1) return LogLevel::Info;
  return LogLevel::Debug;
}

bool log_enabled(LogLevel level) { return level <= g_max_level.load(); }

namespace {

void write_log(int priority, std::string_view name, std::string_view message) {
  const int length = static_cast<int>(message.size());
  if (g_sink == LogSink::Syslog) {
    syslog(priority, "%.*s", length, message.data());
    return;
  }
  const std::lock_guard lock(g_stderr_mutex);
  std::fprintf(stderr, "squtun: %.*s: %.*s\n", static_cast<int>(name.size()), name.data(), length,
               message.data());
}

}  // namespace

void log_message(LogLevel level, std::string_view message) {
  if (log_enabled(level)) write_log(syslog_priority(level), level_name(level), message);
}

void log_report(std::string_view message) { write_log(LOG_NOTICE, "report", message); }

}  // namespace squtun::daemon
