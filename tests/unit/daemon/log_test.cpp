#include "daemon/log.h"

#include <gtest/gtest.h>

namespace squtun::daemon {
namespace {

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

}  // namespace
}  // namespace squtun::daemon
