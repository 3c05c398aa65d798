#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "crypto/secret.h"

namespace squtun::crypto {

// A key file that cannot be used; what() names the file and says how to fix it.
class KeyFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses the text of a key file: exactly 64 hex digits, either case, with whitespace
// allowed anywhere around them. `origin` names the file in error messages.
Key parse_key_text(std::string_view text, std::string_view origin);

// Reads and parses a key file, refusing one that group or others may read.
Key load_key_file(const std::string& path);

// 64 lower-case hex digits of fresh key from the OpenSSL RNG, without a newline.
std::string generate_key_hex();

// 8 hex digits that tell keys apart in logs and `squtun show` without revealing them: the
// start of HMAC-SHA256(key, "squtun key fingerprint"), so they say nothing of the key.
std::string key_fingerprint(const Key& key);

}  // namespace squtun::crypto
