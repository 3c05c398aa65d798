#include "cli/config_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli/options.h"

#include "temp_dir.h"

namespace squtun::cli {
namespace {

using Args = std::vector<std::string>;

std::string error_of(std::string_view text) {
  try {
    config_arguments(text, "/etc/squtun/tun0.conf");
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(ConfigFileTest, LinesBecomeLongOptions) {
  const Args args = config_arguments(
      "# site link\n"
      "listen = 7778\n"
      "peer=198.51.100.2\n"
      "  peer-port =   7777  \n"
      "\n"
      "interface = tun0\r\n"
      "key = /etc/squtun/site.key\n"
      "keepalive = 25\n"
      "clock-skew = 30\n"
      "foreground = yes\n"
      "verbose = true\n"
      "quiet = no\n"
      "tap = 0\n"
      "no-offload = yes\n",
      "f");
  const Args expected{"--listen=7778", "--peer=198.51.100.2", "--peer-port=7777", "--interface=tun0",
                      "--key=/etc/squtun/site.key", "--keepalive=25", "--clock-skew=30", "--foreground",
                      "--verbose", "--no-offload"};
  EXPECT_EQ(args, expected);
}

TEST(ConfigFileTest, ErrorsNameFileLineAndSetting) {
  const std::string unknown = error_of("listen = 1\nspeed = fast\n");
  EXPECT_NE(unknown.find("/etc/squtun/tun0.conf:2"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("'speed'"), std::string::npos) << unknown;
  EXPECT_NE(error_of("listen 7777\n").find(":1: expected 'name = value'"), std::string::npos);
  EXPECT_NE(error_of("foreground = maybe\n").find("'maybe' is not yes or no"), std::string::npos);
  // Actions are for the command line, not for a tunnel's config.
  EXPECT_NE(error_of("genkey = yes\n").find("'genkey'"), std::string::npos);
  EXPECT_NE(error_of("config = /x\n").find("'config'"), std::string::npos);
}

TEST(ConfigFileTest, BadValuesAreRefusedByTheOptionParserNamingTheSetting) {
  const Args args = config_arguments("listen = 70000\n", "f");
  try {
    parse_options(args);
    FAIL() << "expected a usage error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--listen: '70000'"), std::string::npos) << e.what();
  }
}

class ConfigExpansionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_ + "/tun0.conf";
    std::ofstream(path_) << "listen = 7778\npeer = 198.51.100.2\npeer-port = 7777\ninterface = tun0\nkey = k\n";
  }
  test_support::TempDir temp_{"squtun-config"};
  const std::string dir_ = temp_.path();
  std::string path_;
};

TEST_F(ConfigExpansionTest, CommandLineOverridesTheFile) {
  const Options o = parse_options(expand_config({"--config", path_, "-l", "9000", "-f"}));
  EXPECT_EQ(o.listen_port, 9000);
  EXPECT_EQ(o.peer_host, "198.51.100.2");
  EXPECT_EQ(o.peer_port, 7777);
  EXPECT_EQ(o.interface, "tun0");
  EXPECT_TRUE(o.foreground);
}

TEST_F(ConfigExpansionTest, EqualsFormAndMissingFile) {
  EXPECT_EQ(parse_options(expand_config({"--config=" + path_})).listen_port, 7778);
  try {
    expand_config({"--config", dir_ + "/missing.conf"});
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(dir_ + "/missing.conf"), std::string::npos) << e.what();
  }
  EXPECT_THROW(expand_config({"--config"}), UsageError);
}

}  // namespace
}  // namespace squtun::cli
