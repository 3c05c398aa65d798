#include "daemon/log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>

namespace squtun::daemon {
namespace {

using namespace std::chrono_literals;
using Clock = RateLimitedLog::Clock;

TEST(LogTest, VerbosityMapsToLevels) {
  EXPECT_EQ(log_level_for_verbosity(-1), LogLevel::Error);
  EXPECT_EQ(log_level_for_verbosity(0), LogLevel::Warning);
  EXPECT_EQ(log_level_for_verbosity(1), LogLevel::Info);
  EXPECT_EQ(log_level_for_verbosity(2), LogLevel::Debug);
  EXPECT_EQ(log_level_for_verbosity(3), LogLevel::Debug);
}

TEST(LogTest, QuietKeepsOnlyErrors) {
  configure_log(LogLevel::Error, LogSink::Stderr);
  EXPECT_TRUE(log_enabled(LogLevel::Error));
  EXPECT_FALSE(log_enabled(LogLevel::Warning));
  EXPECT_FALSE(log_enabled(LogLevel::Info));
  configure_log(LogLevel::Info, LogSink::Stderr);
  EXPECT_TRUE(log_enabled(LogLevel::Warning));
  EXPECT_TRUE(log_enabled(LogLevel::Info));
  EXPECT_FALSE(log_enabled(LogLevel::Debug));
}

TEST(LogTest, StderrLinesNameProgramAndLevel) {
  configure_log(LogLevel::Warning, LogSink::Stderr);
  testing::internal::CaptureStderr();
  log_warning("peer unreachable");
  log_info("not shown at the default level");
  log_report("counters: shown whatever the level");
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            "squtun: warning: peer unreachable\nsqutun: report: counters: shown whatever the level\n");
}

std::string stderr_identity() {
  struct stat st {};
  if (fstat(STDERR_FILENO, &st) != 0) return "";
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

TEST(LogTest, StderrToTheJournalCarriesPriorities) {
  testing::internal::CaptureStderr();
  const std::string journal = stderr_identity();
  ASSERT_FALSE(journal.empty());
  ASSERT_EQ(setenv("JOURNAL_STREAM", journal.c_str(), 1), 0);
  configure_log(LogLevel::Info, LogSink::Stderr);
  log_error("e");
  log_warning("w");
  log_info("i");
  log_report("r");
  // Another stream than stderr: plain lines.
  ASSERT_EQ(setenv("JOURNAL_STREAM", "1:2", 1), 0);
  configure_log(LogLevel::Info, LogSink::Stderr);
  log_warning("plain");
  unsetenv("JOURNAL_STREAM");
  configure_log(LogLevel::Warning, LogSink::Stderr);
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            "<3>error: e\n<4>warning: w\n<6>info: i\n<5>report: r\nsqutun: warning: plain\n");
}

// --- RateLimitedLog: time is passed in, nothing sleeps -----------------------------------

struct Fixture : testing::Test {
  const Clock::time_point t0 = Clock::time_point{} + 1000h;
  RateLimitedLog limiter{{.burst = 3, .window = 60s, .max_keys = 4}};

  // How many of `count` messages, one every `step` from `start`, are let through.
  int admitted(std::string_view key, int count, Clock::time_point start, Clock::duration step) {
    int logged = 0;
    for (int i = 0; i < count; ++i) {
      const auto verdict = limiter.admit(key, start + i * step);
      logged += verdict.log ? 1 : 0;
    }
    return logged;
  }
};

using RateLimitedLogTest = Fixture;

TEST_F(RateLimitedLogTest, LetsTheBurstThroughThenCounts) {
  for (int i = 0; i < 3; ++i) {
    const auto verdict = limiter.admit("tun-write", t0 + i * 1ms);
    EXPECT_TRUE(verdict.log) << i;
    EXPECT_TRUE(verdict.summaries.empty());
  }
  EXPECT_FALSE(limiter.pending());
  EXPECT_EQ(admitted("tun-write", 1000, t0 + 10ms, 1ms), 0);
  EXPECT_TRUE(limiter.pending());
}

TEST_F(RateLimitedLogTest, NextWindowStartsWithOneSummaryLine) {
  EXPECT_EQ(admitted("clock-skew", 10, t0, 1s), 3);  // 7 suppressed within the first minute
  const auto verdict = limiter.admit("clock-skew", t0 + 75s);
  EXPECT_TRUE(verdict.log);
  ASSERT_EQ(verdict.summaries.size(), 1u);
  EXPECT_EQ(verdict.summaries[0].key, "clock-skew");
  EXPECT_EQ(verdict.summaries[0].suppressed, 7u);
  EXPECT_EQ(verdict.summaries[0].span, 75s);
  EXPECT_EQ(RateLimitedLog::summary_text(verdict.summaries[0]),
            "suppressed 7 similar messages (clock-skew) in the last 75 s");
  EXPECT_FALSE(limiter.pending());
  // The new window has its own burst (one already used by the message above).
  EXPECT_EQ(admitted("clock-skew", 5, t0 + 76s, 1s), 2);
}

TEST_F(RateLimitedLogTest, WindowEndsExactlyAfterItsLength) {
  EXPECT_EQ(admitted("k", 4, t0, 0s), 3);
  EXPECT_FALSE(limiter.admit("k", t0 + 60s - 1ns).log);
  const auto verdict = limiter.admit("k", t0 + 60s);
  EXPECT_TRUE(verdict.log);
  ASSERT_EQ(verdict.summaries.size(), 1u);
  EXPECT_EQ(verdict.summaries[0].suppressed, 2u);
}

TEST_F(RateLimitedLogTest, AQuietKeyGivesNoSummary) {
  EXPECT_EQ(admitted("k", 3, t0, 1s), 3);
  const auto verdict = limiter.admit("k", t0 + 10min);
  EXPECT_TRUE(verdict.log);
  EXPECT_TRUE(verdict.summaries.empty());
  EXPECT_TRUE(limiter.take_summaries(t0 + 20min, true).empty());
}

TEST_F(RateLimitedLogTest, SteadyFloodGivesBurstPlusOneLinePerWindow) {
  // One message every 10 ms for 10 minutes: 60000 messages.
  int lines = 0;
  std::uint64_t summarised = 0;
  for (int i = 0; i < 60000; ++i) {
    const auto verdict = limiter.admit("tun-write", t0 + i * 10ms);
    lines += verdict.log ? 1 : 0;
    for (const auto& s : verdict.summaries) {
      ++lines;
      summarised += s.suppressed;
    }
  }
  for (const auto& s : limiter.take_summaries(t0 + 10min, true)) {
    ++lines;
    summarised += s.suppressed;
  }
  EXPECT_EQ(lines, 10 * (3 + 1));
  EXPECT_EQ(summarised, 60000u - 10 * 3);  // every message is either logged or counted
}

TEST_F(RateLimitedLogTest, KeysAreIndependent) {
  EXPECT_EQ(admitted("a", 10, t0, 1ms), 3);
  EXPECT_EQ(admitted("b", 10, t0, 1ms), 3);
  EXPECT_EQ(admitted("a", 1, t0 + 1s, 0s), 0);
  const auto verdict = limiter.admit("b", t0 + 61s);
  ASSERT_EQ(verdict.summaries.size(), 1u);
  EXPECT_EQ(verdict.summaries[0].key, "b");
  EXPECT_EQ(verdict.summaries[0].suppressed, 7u);
  EXPECT_TRUE(limiter.pending());  // "a" still has 8 suppressed
}

TEST_F(RateLimitedLogTest, TakeSummariesWaitsForTheWindowUnlessAll) {
  EXPECT_EQ(admitted("a", 5, t0, 1s), 3);
  EXPECT_EQ(admitted("b", 6, t0 + 30s, 1s), 3);
  EXPECT_TRUE(limiter.take_summaries(t0 + 59s, false).empty());

  auto summaries = limiter.take_summaries(t0 + 60s, false);  // a's window is over, b's is not
  ASSERT_EQ(summaries.size(), 1u);
  EXPECT_EQ(summaries[0].key, "a");
  EXPECT_EQ(summaries[0].suppressed, 2u);
  EXPECT_EQ(summaries[0].span, 60s);
  EXPECT_TRUE(limiter.pending());

  summaries = limiter.take_summaries(t0 + 61s, true);  // at exit: b's too
  ASSERT_EQ(summaries.size(), 1u);
  EXPECT_EQ(summaries[0].key, "b");
  EXPECT_EQ(summaries[0].suppressed, 3u);
  EXPECT_FALSE(limiter.pending());
  EXPECT_TRUE(limiter.take_summaries(t0 + 10min, true).empty());  // counted once only
}

TEST_F(RateLimitedLogTest, SummaryTakenEarlyIsNotRepeated) {
  EXPECT_EQ(admitted("a", 5, t0, 1s), 3);
  ASSERT_EQ(limiter.take_summaries(t0 + 10s, true).size(), 1u);
  // Still in the same window: the burst stays used up, and the new count starts at zero.
  EXPECT_FALSE(limiter.admit("a", t0 + 20s).log);
  const auto verdict = limiter.admit("a", t0 + 70s);
  EXPECT_TRUE(verdict.log);
  ASSERT_EQ(verdict.summaries.size(), 1u);
  EXPECT_EQ(verdict.summaries[0].suppressed, 1u);
}

TEST_F(RateLimitedLogTest, ForgetsTheOldestKeyBeyondTheLimitButReportsItsCount) {
  EXPECT_EQ(admitted("k0", 5, t0, 0s), 3);  // 2 suppressed
  for (int k = 1; k < 4; ++k) EXPECT_EQ(admitted("k" + std::to_string(k), 1, t0 + k * 1s, 0s), 1);
  const auto verdict = limiter.admit("k4", t0 + 10s);  // a fifth key: k0 goes
  EXPECT_TRUE(verdict.log);
  ASSERT_EQ(verdict.summaries.size(), 1u);
  EXPECT_EQ(verdict.summaries[0].key, "k0");
  EXPECT_EQ(verdict.summaries[0].suppressed, 2u);
  EXPECT_FALSE(limiter.pending());
  EXPECT_TRUE(limiter.admit("k0", t0 + 11s).log);  // a fresh window for k0
}

TEST_F(RateLimitedLogTest, SingularSummary) {
  EXPECT_EQ(RateLimitedLog::summary_text({"udp-send", 1, 500ms}),
            "suppressed 1 similar message (udp-send) in the last 1 s");
}

// --- The process-wide log_limited (real clock; all within one window) ------------------

TEST(LogLimitedTest, RepeatedWarningsAreCappedAndSummarisedAtExit) {
  configure_log(LogLevel::Warning, LogSink::Stderr);
  log_flush_suppressed(true);  // nothing left from other tests
  testing::internal::CaptureStderr();
  int built = 0;
  for (int i = 0; i < 1000; ++i) {
    log_warning_limited("unit-test-key", [&] {
      ++built;
      return "cannot write packet " + std::to_string(i);
    });
  }
  log_flush_suppressed(false);  // the window (a minute) is not over: nothing yet
  const std::string during = testing::internal::GetCapturedStderr();
  EXPECT_EQ(built, 5);  // the message is built only when it is logged
  EXPECT_EQ(during,
            "squtun: warning: cannot write packet 0\nsqutun: warning: cannot write packet 1\n"
            "squtun: warning: cannot write packet 2\nsqutun: warning: cannot write packet 3\n"
            "squtun: warning: cannot write packet 4\n");

  testing::internal::CaptureStderr();
  log_flush_suppressed(true);
  log_flush_suppressed(true);
  const std::string at_exit = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(at_exit.starts_with("squtun: warning: suppressed 995 similar messages (unit-test-key) in the last "))
      << at_exit;
  EXPECT_EQ(std::count(at_exit.begin(), at_exit.end(), '\n'), 1);
}

TEST(LogLimitedTest, DisabledLevelCountsNothing) {
  configure_log(LogLevel::Error, LogSink::Stderr);
  testing::internal::CaptureStderr();
  for (int i = 0; i < 100; ++i) log_warning_limited("unit-test-quiet", "x");
  log_flush_suppressed(true);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  configure_log(LogLevel::Warning, LogSink::Stderr);
}

TEST(LogLimitedTest, InfoMessagesAreSummarisedAtInfo) {
  configure_log(LogLevel::Warning, LogSink::Stderr);
  testing::internal::CaptureStderr();
  for (int i = 0; i < 10; ++i) log_limited(LogLevel::Info, "unit-test-info", "not at the default level");
  log_flush_suppressed(true);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  configure_log(LogLevel::Info, LogSink::Stderr);
  testing::internal::CaptureStderr();
  for (int i = 0; i < 10; ++i) log_limited(LogLevel::Info, "unit-test-info2", "shown");
  log_flush_suppressed(true);
  const std::string out = testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find("squtun: info: suppressed 5 similar messages (unit-test-info2)"), std::string::npos) << out;
  configure_log(LogLevel::Warning, LogSink::Stderr);
}

}  // namespace
}  // namespace squtun::daemon
