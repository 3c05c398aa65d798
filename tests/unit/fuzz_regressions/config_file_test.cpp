// Inputs the fuzz targets (tests/fuzz/) found, kept as unit tests.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "cli/config_file.h"
#include "cli/options.h"

#include "temp_dir.h"

namespace squtun::cli {
namespace {

using namespace std::string_view_literals;

std::string config_error(std::string_view text) {
  try {
    config_arguments(text, "/etc/squtun/tun0.conf");
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

// fuzz_config: a NUL byte in a value went through as part of the argument
// ("--key=/etc/squtun/a.key\0.bak"), and every C call that later gets the string (open,
// getaddrinfo, the TUN ioctl, getpwnam) silently cuts it there. argv cannot carry a NUL, so
// a config file must not either: the line is refused, naming the file and line.
TEST(FuzzRegressionConfigFile, NulByteInValueIsRefusedNamingTheLine) {
  const std::string message = config_error("listen = 7777\nkey = /etc/squtun/a.key\0.bak\n"sv);
  EXPECT_NE(message.find("/etc/squtun/tun0.conf:2"), std::string::npos) << message;
  EXPECT_NE(message.find("NUL"), std::string::npos) << message;
  EXPECT_NE(config_error("bind = 127.0.0.1\0garbage\n"sv), "");
  EXPECT_NE(config_error("peer = 192.0.2.1\0\n"sv), "");
  EXPECT_NE(config_error("interface = tun0\0x\n"sv), "");
}

TEST(FuzzRegressionConfigFile, NulByteInAConfigFileStopsTheCommandLine) {
  const test_support::TempDir dir("squtun-fuzz-regression");
  const std::string path = dir.path() + "/tun0.conf";
  {
    std::ofstream out(path, std::ios::binary);
    out << "listen = 7777\ninterface = tun0\n"sv << "key = /etc/squtun/a.key\0.bak\n"sv;
  }
  EXPECT_THROW(parse_options(expand_config({"--config", path})), UsageError);
}

// Without the NUL the same file is fine: the refusal is about the NUL only.
TEST(FuzzRegressionConfigFile, TheSameFileWithoutTheNulIsAccepted) {
  EXPECT_EQ(config_error("listen = 7777\nkey = /etc/squtun/a.key.bak\n"sv), "");
}

}  // namespace
}  // namespace squtun::cli
