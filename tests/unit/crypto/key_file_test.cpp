#include "crypto/key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "temp_dir.h"

namespace squtun::crypto {
namespace {

constexpr std::string_view kKeyHex =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

std::vector<std::uint8_t> bytes_of(const Key& key) {
  return std::vector<std::uint8_t>(key.data(), key.data() + key.size());
}

std::vector<std::uint8_t> expected_key_bytes() {
  std::vector<std::uint8_t> bytes;
  for (std::uint8_t i = 0; i < kKeySize; ++i) bytes.push_back(i);
  return bytes;
}

std::string upper(std::string_view text) {
  std::string result(text);
  for (char& c : result) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return result;
}

// The message of the KeyFileError that parsing text throws, or "" if it parses.
std::string parse_error(std::string_view text, std::string_view origin = "/etc/squtun/k.key") {
  try {
    parse_key_text(text, origin);
  } catch (const KeyFileError& error) {
    return error.what();
  }
  return "";
}

TEST(ParseKeyTextTest, AcceptsLowerCase) {
  EXPECT_EQ(bytes_of(parse_key_text(kKeyHex, "k")), expected_key_bytes());
}

TEST(ParseKeyTextTest, AcceptsUpperCase) {
  EXPECT_EQ(bytes_of(parse_key_text(upper(kKeyHex), "k")), expected_key_bytes());
}

TEST(ParseKeyTextTest, AcceptsMixedCase) {
  const std::string mixed = "000102030405060708090A0b0C0d0E0F101112131415161718191a1B1c1D1e1F";
  EXPECT_EQ(bytes_of(parse_key_text(mixed, "k")), expected_key_bytes());
}

TEST(ParseKeyTextTest, AcceptsFinalNewline) {
  EXPECT_EQ(bytes_of(parse_key_text(std::string(kKeyHex) + "\n", "k")), expected_key_bytes());
}

TEST(ParseKeyTextTest, AcceptsWhitespaceAroundTheDigits) {
  const std::string text = " \t\r\n\v\f" + std::string(kKeyHex) + "\r\n \t\n";
  EXPECT_EQ(bytes_of(parse_key_text(text, "k")), expected_key_bytes());
}

TEST(ParseKeyTextTest, RefusesTooFewDigitsNamingOriginAndFix) {
  const std::string message = parse_error(kKeyHex.substr(1));
  EXPECT_NE(message.find("/etc/squtun/k.key"), std::string::npos) << message;
  EXPECT_NE(message.find("found 63 hex digits, need exactly 64"), std::string::npos) << message;
  EXPECT_NE(message.find("squtun --genkey > /etc/squtun/k.key"), std::string::npos) << message;
}

TEST(ParseKeyTextTest, RefusesTooManyDigits) {
  const std::string message = parse_error(std::string(kKeyHex) + "0\n");
  EXPECT_NE(message.find("found 65 hex digits"), std::string::npos) << message;
  EXPECT_NE(message.find("squtun --genkey"), std::string::npos) << message;
}

TEST(ParseKeyTextTest, RefusesNonHexCharacterNamingItAndItsOffset) {
  std::string text = "  " + std::string(kKeyHex);
  text[12] = 'g';
  const std::string message = parse_error(text);
  EXPECT_NE(message.find("/etc/squtun/k.key"), std::string::npos) << message;
  EXPECT_NE(message.find("'g' at offset 12 is not a hex digit"), std::string::npos) << message;
  EXPECT_NE(message.find("squtun --genkey"), std::string::npos) << message;
}

TEST(ParseKeyTextTest, RefusesHexPrefix) {
  EXPECT_NE(parse_error("0x" + std::string(kKeyHex.substr(2))).find("'x' at offset 1"),
            std::string::npos);
}

TEST(ParseKeyTextTest, ShowsUnprintableBytesInHex) {
  std::string text(kKeyHex);
  text[5] = '\0';
  EXPECT_NE(parse_error(text).find("byte 0x00 at offset 5"), std::string::npos);
}

TEST(ParseKeyTextTest, RefusesWhitespaceBetweenDigits) {
  const std::string text =
      std::string(kKeyHex.substr(0, 32)) + " " + std::string(kKeyHex.substr(32));
  const std::string message = parse_error(text);
  EXPECT_NE(message.find("whitespace at offset 32"), std::string::npos) << message;
  EXPECT_NE(message.find("/etc/squtun/k.key"), std::string::npos) << message;
}

TEST(ParseKeyTextTest, RefusesEmptyText) {
  const std::string message = parse_error("");
  EXPECT_NE(message.find("/etc/squtun/k.key"), std::string::npos) << message;
  EXPECT_NE(message.find("empty"), std::string::npos) << message;
  EXPECT_NE(message.find("squtun --genkey > /etc/squtun/k.key"), std::string::npos) << message;
}

TEST(ParseKeyTextTest, RefusesOnlyWhitespace) {
  const std::string message = parse_error(" \n\t\n");
  EXPECT_NE(message.find("/etc/squtun/k.key"), std::string::npos) << message;
  EXPECT_NE(message.find("only whitespace"), std::string::npos) << message;
  EXPECT_NE(message.find("squtun --genkey"), std::string::npos) << message;
}

class LoadKeyFileTest : public ::testing::Test {
 protected:
  // Writes content with exactly this mode, whatever the umask.
  std::string write_key_file(const std::string& name, std::string_view content, mode_t mode) {
    const std::string path = dir_ / name;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    EXPECT_EQ(::fchmod(fd, mode), 0);
    ::close(fd);
    return path;
  }

  std::string load_error(const std::string& path) {
    try {
      load_key_file(path);
    } catch (const KeyFileError& error) {
      return error.what();
    }
    return "";
  }

  test_support::TempDir temp_{"squtun-key-test"};
  const std::filesystem::path dir_ = temp_.path();
};

TEST_F(LoadKeyFileTest, LoadsAPrivateKeyFile) {
  const std::string path = write_key_file("k.key", std::string(kKeyHex) + "\n", 0600);
  EXPECT_EQ(bytes_of(load_key_file(path)), expected_key_bytes());
}

TEST_F(LoadKeyFileTest, LoadsThroughASymlink) {
  const std::string target = write_key_file("k.key", kKeyHex, 0400);
  const std::string link = dir_ / "link.key";
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  EXPECT_EQ(bytes_of(load_key_file(link)), expected_key_bytes());
}

TEST_F(LoadKeyFileTest, RefusesGroupReadableFile) {
  const std::string path = write_key_file("k.key", kKeyHex, 0640);
  const std::string message = load_error(path);
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("0640"), std::string::npos) << message;
  EXPECT_NE(message.find("chmod 600 " + path), std::string::npos) << message;
}

TEST_F(LoadKeyFileTest, RefusesWorldReadableFile) {
  const std::string message = load_error(write_key_file("k.key", kKeyHex, 0604));
  EXPECT_NE(message.find("chmod 600"), std::string::npos) << message;
}

TEST_F(LoadKeyFileTest, RefusesGroupWritableFile) {
  EXPECT_NE(load_error(write_key_file("k.key", kKeyHex, 0620)).find("chmod 600"),
            std::string::npos);
}

TEST_F(LoadKeyFileTest, NamesTheMissingFileAndHowToCreateIt) {
  const std::string path = dir_ / "missing.key";
  const std::string message = load_error(path);
  EXPECT_NE(message.find("key file " + path + ": No such file or directory"), std::string::npos)
      << message;
  EXPECT_NE(message.find("squtun --genkey > " + path + " && chmod 600 " + path), std::string::npos)
      << message;
}

TEST_F(LoadKeyFileTest, RefusesADirectory) {
  const std::string message = load_error(dir_);
  EXPECT_NE(message.find(dir_.string()), std::string::npos) << message;
  EXPECT_NE(message.find("is a directory"), std::string::npos) << message;
}

TEST_F(LoadKeyFileTest, RefusesAFifoWithoutBlocking) {
  const std::string path = dir_ / "fifo";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  EXPECT_NE(load_error(path).find("not a regular file"), std::string::npos);
}

TEST_F(LoadKeyFileTest, RefusesAnOversizedFile) {
  const std::string path = write_key_file("big.key", std::string(5000, 'a'), 0600);
  const std::string message = load_error(path);
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("too large"), std::string::npos) << message;
}

TEST_F(LoadKeyFileTest, ReportsParseErrorsWithThePath) {
  const std::string path = write_key_file("short.key", kKeyHex.substr(2), 0600);
  const std::string message = load_error(path);
  EXPECT_NE(message.find("key file " + path + ": found 62 hex digits"), std::string::npos)
      << message;
}

TEST_F(LoadKeyFileTest, RefusesAnEmptyFile) {
  const std::string message = load_error(write_key_file("empty.key", "", 0600));
  EXPECT_NE(message.find("empty"), std::string::npos) << message;
}

TEST_F(LoadKeyFileTest, ExplainsPermissionDenied) {
  if (::geteuid() == 0) {
    GTEST_SKIP() << "root reads files regardless of their mode";
  }
  const std::string path = write_key_file("k.key", kKeyHex, 0000);
  const std::string message = load_error(path);
  EXPECT_NE(message.find("cannot read key file " + path + ": Permission denied"), std::string::npos)
      << message;
  EXPECT_NE(message.find("readable by the user squtun runs as"), std::string::npos) << message;
}

TEST(GenerateKeyHexTest, GivesSixtyFourLowerCaseHexDigitsThatParse) {
  const std::string hex = generate_key_hex();
  ASSERT_EQ(hex.size(), 64u);
  EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos) << hex;
  EXPECT_NO_THROW(parse_key_text(hex, "generated"));
}

TEST(GenerateKeyHexTest, GivesAFreshKeyEachCall) {
  EXPECT_NE(generate_key_hex(), generate_key_hex());
}

}  // namespace
}  // namespace squtun::crypto
