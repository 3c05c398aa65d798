// The key file: the input is the text of a key file, parsed by parse_key_text and read back
// from a file by load_key_file (a memfd, mode 0600, reached through /proc/self/fd), padded
// with whitespace to exactly the size limit or one byte past it.
//
// Invariants, against a model of the format (whitespace, exactly 64 hex digits, whitespace):
//  - parse_key_text throws KeyFileError exactly when the model refuses the text, and no
//    other exception ever;
//  - an accepted key's lower-case hex is the 64 digits of the input, lower-cased;
//  - an error names the file, and never repeats key material: no run of 16 or more hex
//    digits appears in it;
//  - load_key_file agrees with parse_key_text on the same bytes up to 4096 bytes, and
//    refuses anything larger.

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/key_file.h"
#include "fuzz_support.h"

namespace {

using squtun::crypto::Key;
using squtun::crypto::KeyFileError;
using squtun::fuzz::require;

constexpr std::string_view kOrigin = "/etc/squtun/fuzz.key";
constexpr std::size_t kMaxKeyFileSize = 4096;  // key_file.cpp's limit

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The model: the 64 digits, lower-cased, if `text` is a key file; nothing otherwise.
std::optional<std::string> model_digits(std::string_view text) {
  std::size_t first = 0;
  while (first < text.size() && is_space(text[first])) ++first;
  std::size_t last = text.size();
  while (last > first && is_space(text[last - 1])) --last;
  if (last - first != 64) return std::nullopt;
  std::string digits;
  for (std::size_t i = first; i < last; ++i) {
    if (hex_value(text[i]) < 0) return std::nullopt;
    digits += static_cast<char>(text[i] >= 'A' && text[i] <= 'F' ? text[i] - 'A' + 'a' : text[i]);
  }
  return digits;
}

std::string lower_hex(const Key& key) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (std::size_t i = 0; i < key.size(); ++i) {
    hex += kDigits[key.data()[i] >> 4];
    hex += kDigits[key.data()[i] & 0x0f];
  }
  return hex;
}

std::size_t longest_hex_run(std::string_view text) {
  std::size_t longest = 0;
  std::size_t run = 0;
  for (const char c : text) {
    run = hex_value(c) >= 0 ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return longest;
}

void check_error(const KeyFileError& e, std::string_view origin) {
  const std::string_view message = e.what();
  require(message.find(origin) != std::string_view::npos);
  require(longest_hex_run(message) < 16);
}

// Returns the key's hex, or nothing after checking the error.
std::optional<std::string> parse(std::string_view text) {
  try {
    return lower_hex(squtun::crypto::parse_key_text(text, kOrigin));
  } catch (const KeyFileError& e) {
    check_error(e, kOrigin);
    return std::nullopt;
  }
}

// The same text as a file: load_key_file on a memfd holding `text`.
void check_load(const std::string& text) {
  const int fd = ::memfd_create("fuzz.key", MFD_CLOEXEC);
  if (fd < 0) return;  // no memfd here: nothing to compare
  bool written = ::fchmod(fd, 0600) == 0;
  std::size_t done = 0;
  while (written && done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    written = n > 0;
    if (written) done += static_cast<std::size_t>(n);
  }
  if (written) {
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    std::optional<std::string> loaded;
    try {
      loaded = lower_hex(squtun::crypto::load_key_file(path));
    } catch (const KeyFileError& e) {
      check_error(e, path);
      if (text.size() > kMaxKeyFileSize) {
        require(std::string_view(e.what()).find("larger than") != std::string_view::npos);
      }
    }
    if (text.size() > kMaxKeyFileSize) {
      require(!loaded);
    } else {
      require(loaded == parse(text));
    }
  }
  ::close(fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto expected = model_digits(text);
  const auto parsed = parse(text);
  require(parsed == expected);

  // As a file, as it is, and padded (at the end or the start) to the limit or past it.
  check_load(text);
  if (size <= kMaxKeyFileSize) {
    const std::size_t target = (size & 1) ? kMaxKeyFileSize + 1 : kMaxKeyFileSize;
    const std::string padding(target - size, (size & 2) ? '\n' : ' ');
    check_load((size & 4) ? padding + text : text + padding);
  }
  return 0;
}
