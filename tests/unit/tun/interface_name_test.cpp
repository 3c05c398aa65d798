#include <gtest/gtest.h>

#include "tun/tun_device.h"

namespace squtun::tun {
namespace {

TEST(InterfaceNameProblem, AcceptsOrdinaryNames) {
  EXPECT_EQ(interface_name_problem("tun0"), "");
  EXPECT_EQ(interface_name_problem("sqt-wan_1.2"), "");
  EXPECT_EQ(interface_name_problem("a"), "");
  EXPECT_EQ(interface_name_problem("fifteen-bytes-x"), "");
}

TEST(InterfaceNameProblem, RejectsEmptyAndTooLong) {
  EXPECT_NE(interface_name_problem(""), "");
  EXPECT_NE(interface_name_problem("sixteen-bytes-xx"), "");
}

TEST(InterfaceNameProblem, RejectsForbiddenCharacters) {
  EXPECT_NE(interface_name_problem("tun/0"), "");
  EXPECT_NE(interface_name_problem("tun:0"), "");
  EXPECT_NE(interface_name_problem("tun 0"), "");
  EXPECT_NE(interface_name_problem("tun\t0"), "");
  EXPECT_NE(interface_name_problem("tun0\n"), "");
}

TEST(InterfaceNameProblem, RejectsDotNames) {
  EXPECT_NE(interface_name_problem("."), "");
  EXPECT_NE(interface_name_problem(".."), "");
  EXPECT_EQ(interface_name_problem("..."), "");
}

TEST(InterfaceNameProblem, ReasonSaysWhatIsWrong) {
  EXPECT_NE(interface_name_problem("sixteen-bytes-xx").find("15"), std::string::npos);
  EXPECT_NE(interface_name_problem("tun:0").find("':'"), std::string::npos);
}

TEST(InterfaceExists, LoopbackDoesAndNonsenseDoesNot) {
  EXPECT_TRUE(interface_exists("lo"));
  EXPECT_FALSE(interface_exists("sqt-no-such-if"));
  EXPECT_FALSE(interface_exists("far-too-long-for-an-interface"));
}

}  // namespace
}  // namespace squtun::tun
