#include "crypto/key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "base/fd.h"
#include "crypto/kdf.h"

namespace squtun::crypto {
namespace {

constexpr std::size_t kKeyHexDigits = 2 * kKeySize;
// A key file needs 64 bytes and a little whitespace; a file past this limit is surely
// the wrong file, and reading it whole would only spread more of it through memory.
constexpr std::size_t kMaxKeyFileSize = 4096;
constexpr char kHexDigits[] = "0123456789abcdef";

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::optional<std::uint8_t> hex_value(char c) {
  if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<std::uint8_t>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<std::uint8_t>(c - 'A' + 10);
  return std::nullopt;
}

std::string hex_of(std::span<const std::uint8_t> bytes) {
  std::string hex;
  for (const std::uint8_t byte : bytes) {
    hex += kHexDigits[byte >> 4];
    hex += kHexDigits[byte & 0x0f];
  }
  return hex;
}

std::string describe_char(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (is_space(c)) return "whitespace";
  char text[16];
  if (byte >= 0x20 && byte < 0x7f) {
    std::snprintf(text, sizeof text, "character '%c'", c);
  } else {
    std::snprintf(text, sizeof text, "byte 0x%02x", byte);
  }
  return text;
}

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

std::string genkey_hint(std::string_view origin) {
  return "generate a key with: squtun --genkey > " + std::string(origin);
}

[[noreturn]] void refuse_text(std::string_view origin, const std::string& problem) {
  throw KeyFileError("key file " + std::string(origin) + ": " + problem);
}

void decode_hex_into(std::string_view digits, Key& key) {
  for (std::size_t i = 0; i < key.size(); ++i) {
    key.data()[i] =
        static_cast<std::uint8_t>(*hex_value(digits[2 * i]) << 4 | *hex_value(digits[2 * i + 1]));
  }
}

[[noreturn]] void refuse_unreadable(const std::string& path, int error) {
  if (error == ENOENT) {
    throw KeyFileError("key file " + path +
                       ": No such file or directory; create one with: squtun --genkey > " + path +
                       " && chmod 600 " + path);
  }
  std::string message = "cannot read key file " + path + ": " + std::strerror(error);
  if (error == EACCES || error == EPERM) message += "; make it readable by the user squtun runs as";
  throw KeyFileError(message);
}

// O_NONBLOCK so that a FIFO at the path is refused below instead of hanging the open.
// Symlinks are followed on purpose: pointing at a key kept elsewhere is legitimate.
int open_key_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) refuse_unreadable(path, errno);
  return fd;
}

// Checks the opened file rather than the path, so the file checked is the file read.
void check_file_status(int fd, const std::string& path) {
  struct stat status {};
  if (::fstat(fd, &status) != 0) refuse_unreadable(path, errno);
  if (S_ISDIR(status.st_mode))
    throw KeyFileError("key file " + path + " is a directory; give the path of the key file");
  if (!S_ISREG(status.st_mode)) {
    throw KeyFileError("key file " + path +
                       " is not a regular file; give the path of the key file");
  }
  if ((status.st_mode & 077) != 0) {
    throw KeyFileError("key file " + path + " is accessible to group or others (mode " +
                       octal_mode(status.st_mode) + "); run: chmod 600 " + path);
  }
}

[[noreturn]] void refuse_too_large(const std::string& path) {
  throw KeyFileError("key file " + path + " is larger than " + std::to_string(kMaxKeyFileSize) +
                     " bytes, too large for a key file of 64 hex digits; check the path");
}

// One byte beyond the limit is room enough to notice a file that is too large.
using KeyFileBuffer = Secret<kMaxKeyFileSize + 1>;

std::size_t read_key_text(int fd, const std::string& path, KeyFileBuffer& buffer) {
  std::size_t filled = 0;
  while (filled < buffer.size()) {
    const ssize_t got = ::read(fd, buffer.data() + filled, buffer.size() - filled);
    if (got == 0) break;
    if (got < 0) {
      if (errno == EINTR) continue;
      refuse_unreadable(path, errno);
    }
    filled += static_cast<std::size_t>(got);
  }
  if (filled > kMaxKeyFileSize) refuse_too_large(path);
  return filled;
}

}  // namespace

Key parse_key_text(std::string_view text, std::string_view origin) {
  if (text.empty()) refuse_text(origin, "the file is empty; " + genkey_hint(origin));
  const auto first = std::find_if_not(text.begin(), text.end(), is_space);
  if (first == text.end())
    refuse_text(origin, "the file holds only whitespace; " + genkey_hint(origin));
  const auto last = std::find_if_not(text.rbegin(), text.rend(), is_space).base();
  const std::string_view digits(first, last);
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (!hex_value(digits[i])) {
      const std::size_t offset = static_cast<std::size_t>(first - text.begin()) + i;
      refuse_text(origin, describe_char(digits[i]) + " at offset " + std::to_string(offset) +
                              " is not a hex digit; a key file holds 64 hex digits in one "
                              "unbroken run (generate one with: squtun --genkey > FILE)");
    }
  }
  if (digits.size() != kKeyHexDigits) {
    refuse_text(origin, "found " + std::to_string(digits.size()) +
                            " hex digits, need exactly 64; " + genkey_hint(origin));
  }
  Key key;
  decode_hex_into(digits, key);
  return key;
}

Key load_key_file(const std::string& path) {
  const base::Fd fd(open_key_file(path));
  check_file_status(fd.get(), path);
  KeyFileBuffer buffer;
  const std::size_t size = read_key_text(fd.get(), path, buffer);
  return parse_key_text(std::string_view(reinterpret_cast<const char*>(buffer.data()), size), path);
}

std::string generate_key_hex() {
  Key raw;
  random_bytes(raw.span());
  return hex_of(raw.span());
}

std::string key_fingerprint(const Key& key) {
  constexpr std::string_view kLabel = "squtun key fingerprint";
  const Mac mac = MacKey(key).mac({reinterpret_cast<const std::uint8_t*>(kLabel.data()), kLabel.size()});
  return hex_of(std::span(mac).first(4));
}

}  // namespace squtun::crypto
