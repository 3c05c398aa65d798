#include "daemon/log.h"

#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace squtun::daemon {
namespace {

std::atomic<LogLevel> g_max_level{LogLevel::Warning};
std::atomic<LogSink> g_sink{LogSink::Stderr};
std::atomic<bool> g_stderr_is_journal{false};
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

// systemd sets JOURNAL_STREAM=DEVICE:INODE when it connects stdout/stderr to the journal;
// it applies to stderr only if stderr is still that stream (not redirected since).
bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long long device = 0;
  unsigned long long inode = 0;
  if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) return false;
  struct stat st {};
  if (fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == device && static_cast<unsigned long long>(st.st_ino) == inode;
}

}  // namespace

void configure_log(LogLevel max_level, LogSink sink) {
  g_max_level = max_level;
  g_sink = sink;
  g_stderr_is_journal = sink == LogSink::Stderr && stderr_is_journal();
  if (sink == LogSink::Syslog) openlog("squtun", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

LogLevel log_level_for_verbosity(int verbosity) {
  if (verbosity < 0) return LogLevel::Error;
  if (verbosity == 0) return LogLevel::Warning;
  if (verbosity == 1) return LogLevel::Info;
  return LogLevel::Debug;
}

bool log_enabled(LogLevel level) { return level <= g_max_level.load(); }

void set_log_level(LogLevel max_level) { g_max_level = max_level; }

namespace {

void write_log(int priority, std::string_view name, std::string_view message) {
  const int length = static_cast<int>(message.size());
  if (g_sink == LogSink::Syslog) {
    syslog(priority, "%.*s", length, message.data());
    return;
  }
  const int name_length = static_cast<int>(name.size());
  const std::lock_guard lock(g_stderr_mutex);
  if (g_stderr_is_journal) {
    std::fprintf(stderr, "<%d>%.*s: %.*s\n", priority, name_length, name.data(), length, message.data());
  } else {
    std::fprintf(stderr, "squtun: %.*s: %.*s\n", name_length, name.data(), length, message.data());
  }
}

}  // namespace

void log_message(LogLevel level, std::string_view message) {
  if (log_enabled(level)) write_log(syslog_priority(level), level_name(level), message);
}

void log_report(std::string_view message) { write_log(LOG_NOTICE, "report", message); }

// --- RateLimitedLog ---------------------------------------------------------------------

RateLimitedLog::Verdict RateLimitedLog::admit(std::string_view key, Clock::time_point now) {
  Verdict verdict;
  auto it = windows_.find(key);
  if (it == windows_.end()) {
    if (windows_.size() >= std::max<std::size_t>(config_.max_keys, 1)) {
      auto oldest = std::min_element(windows_.begin(), windows_.end(),
                                     [](const auto& a, const auto& b) { return a.second.opened < b.second.opened; });
      if (oldest->second.suppressed > 0) {
        verdict.summaries.push_back({oldest->first, oldest->second.suppressed, now - oldest->second.opened});
        --pending_;
      }
      windows_.erase(oldest);
    }
    it = windows_.emplace(std::string(key), Window{now, 0, 0}).first;
  } else if (now - it->second.opened >= config_.window) {
    if (it->second.suppressed > 0) {
      verdict.summaries.push_back({it->first, it->second.suppressed, now - it->second.opened});
      --pending_;
    }
    it->second = Window{now, 0, 0};
  }
  Window& window = it->second;
  if (window.logged < config_.burst) {
    ++window.logged;
    verdict.log = true;
  } else {
    if (window.suppressed++ == 0) ++pending_;
  }
  return verdict;
}

std::vector<RateLimitedLog::Summary> RateLimitedLog::take_summaries(Clock::time_point now, bool all) {
  std::vector<Summary> summaries;
  if (pending_ == 0) return summaries;
  for (auto& [key, window] : windows_) {
    if (window.suppressed == 0) continue;
    if (!all && now - window.opened < config_.window) continue;
    summaries.push_back({key, window.suppressed, now - window.opened});
    window.suppressed = 0;
    --pending_;
  }
  return summaries;
}

std::string RateLimitedLog::summary_text(const Summary& summary) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(summary.span).count();
  return "suppressed " + std::to_string(summary.suppressed) + " similar message" +
         (summary.suppressed == 1 ? "" : "s") + " (" + summary.key + ") in the last " +
         std::to_string(std::max<long long>(seconds, 1)) + " s";
}

// --- The process's rate-limited messages ----------------------------------------------------

namespace {

std::mutex g_limited_mutex;
RateLimitedLog g_limited;            // guarded by g_limited_mutex
std::atomic<bool> g_limited_pending{false};
std::map<std::string, LogLevel, std::less<>> g_limited_levels;  // key -> level of its messages

void log_summaries(const std::vector<RateLimitedLog::Summary>& summaries) {
  for (const auto& summary : summaries) {
    const auto level = g_limited_levels.find(summary.key);
    write_log(syslog_priority(level == g_limited_levels.end() ? LogLevel::Warning : level->second),
              level_name(level == g_limited_levels.end() ? LogLevel::Warning : level->second),
              RateLimitedLog::summary_text(summary));
  }
}

}  // namespace

bool log_limited_admit(LogLevel level, std::string_view key) {
  if (!log_enabled(level)) return false;
  const std::lock_guard lock(g_limited_mutex);
  auto verdict = g_limited.admit(key, RateLimitedLog::Clock::now());
  log_summaries(verdict.summaries);
  if (auto it = g_limited_levels.find(key); it == g_limited_levels.end())
    if (g_limited_levels.size() < 256) g_limited_levels.emplace(std::string(key), level);
  g_limited_pending.store(g_limited.pending(), std::memory_order_relaxed);
  return verdict.log;
}

void log_flush_suppressed(bool all) {
  if (!g_limited_pending.load(std::memory_order_relaxed)) return;
  const std::lock_guard lock(g_limited_mutex);
  log_summaries(g_limited.take_summaries(RateLimitedLog::Clock::now(), all));
  g_limited_pending.store(g_limited.pending(), std::memory_order_relaxed);
}

}  // namespace squtun::daemon
