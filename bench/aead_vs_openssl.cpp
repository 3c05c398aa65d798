// What one seal_packet and one open_packet cost next to OpenSSL's own ChaCha20-Poly1305
// figures, all in one run: the real `openssl speed -evp chacha20-poly1305 -bytes N` (and with
// -decrypt), an in-process replica of its loop, a packet through the plain EVP sequence, a
// packet through OpenSSL's TLS one-shot, and squtun's calls, each timed in CPU time (as
// openssl speed does), median of several rounds.
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/byte_order.h"
#include "base/unique_handle.h"
#include "crypto/aead.h"
#include "protocol/constants.h"
#include "protocol/data_packet.h"
#include "protocol/session.h"

namespace squtun::protocol {
namespace {

using CipherCtx = base::UniqueHandle<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;

struct Options {
  std::vector<int> sizes{64, 512, 1420};
  int rounds = 3;
  int openssl_seconds = 2;
  double loop_seconds = 1.0;
  bool run_openssl = true;
};

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Calls `one` in blocks until `seconds` of this thread's CPU time have passed: ns per call.
double ns_per_call(double seconds, const std::function<void()>& one) {
  constexpr int kBlock = 512;
  std::uint64_t calls = 0;
  const double start = thread_cpu_seconds();
  double now = start;
  while (now - start < seconds) {
    for (int i = 0; i < kBlock; ++i) one();
    calls += kBlock;
    now = thread_cpu_seconds();
  }
  return (now - start) * 1e9 / static_cast<double>(calls);
}

// `openssl speed -mr` prints "+R:COUNT:NAME:SECONDS" per size on stderr: SECONDS / COUNT.
std::optional<double> openssl_speed_ns(int bytes, int seconds, const std::string& flags) {
  const std::string command = "openssl speed -mr " + flags + " -evp chacha20-poly1305 -bytes " +
                              std::to_string(bytes) + " -seconds " + std::to_string(seconds) +
                              " 2>&1 >/dev/null";
  const base::UniqueHandle<FILE, pclose> pipe(popen(command.c_str(), "r"));
  if (!pipe) return std::nullopt;
  std::optional<double> result;
  std::array<char, 512> line{};
  while (fgets(line.data(), line.size(), pipe.get()) != nullptr) {
    unsigned long long count = 0;
    double secs = 0;
    if (std::sscanf(line.data(), "+R:%llu:%*[^:]:%lf", &count, &secs) == 2 && count > 0) {
      result = secs * 1e9 / static_cast<double>(count);
    }
  }
  return result;
}

crypto::Key key_of(std::uint8_t seed) {
  crypto::Key key;
  for (std::size_t i = 0; i < key.size(); ++i) key.data()[i] = static_cast<std::uint8_t>(seed + i);
  return key;
}

CipherCtx keyed_context(const crypto::Key& key, int enc) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  const std::array<std::uint8_t, 12> iv{};
  if (!ctx || EVP_CipherInit_ex(ctx.get(), EVP_chacha20_poly1305(), nullptr, key.data(), iv.data(),
                                enc) != 1) {
    std::fprintf(stderr, "cannot set up an OpenSSL context\n");
    std::exit(1);
  }
  return ctx;
}

// The figures of one round at one size, ns per call.
struct Row {
  double speed = 0, speed_dec = 0;    // the openssl command, encrypting and decrypting
  double loop = 0;                    // its loop, in this process
  double evp_seal = 0, evp_open = 0;  // one packet on a keyed context, plain EVP calls
  double tls_seal = 0, tls_open = 0;  // one packet through OpenSSL's TLS record one-shot
  double seal = 0, open = 0;          // squtun
};

// OpenSSL 3.0's apps/speed.c EVP_Update_loop: one keyed stream, one update per call; no
// nonce, no AAD, no tag. Then one packet through the plain EVP sequence on a context keyed
// once: EVP_CipherInit_ex2 with the nonce, 16 bytes of AAD, update, final, and the tag taken
// out (seal) or put in (open) by EVP_CIPHER_CTX_ctrl.
void time_openssl_loops(const Options& o, int bytes, Row& row) {
  const crypto::Key key = key_of(9);
  std::vector<std::uint8_t> buf(static_cast<std::size_t>(bytes) + crypto::kAeadTagSize);
  std::array<std::uint8_t, 12> iv{};
  std::array<std::uint8_t, kDataHeaderSize> aad{0xcc};
  std::array<std::uint8_t, crypto::kAeadTagSize> tag{};
  const int tag_size = static_cast<int>(tag.size());
  int outl = 0;
  const CipherCtx stream = keyed_context(key, 1);
  row.loop = ns_per_call(o.loop_seconds, [&] {
    EVP_EncryptUpdate(stream.get(), buf.data(), &outl, buf.data(), bytes);
  });
  const CipherCtx enc = keyed_context(key, 1);
  row.evp_seal = ns_per_call(o.loop_seconds, [&] {
    EVP_CipherInit_ex2(enc.get(), nullptr, nullptr, iv.data(), 1, nullptr);
    EVP_EncryptUpdate(enc.get(), nullptr, &outl, aad.data(), aad.size());
    EVP_EncryptUpdate(enc.get(), buf.data(), &outl, buf.data(), bytes);
    EVP_EncryptFinal_ex(enc.get(), buf.data() + outl, &outl);
    EVP_CIPHER_CTX_ctrl(enc.get(), EVP_CTRL_AEAD_GET_TAG, tag_size, tag.data());
  });
  const CipherCtx dec = keyed_context(key, 0);
  row.evp_open = ns_per_call(o.loop_seconds, [&] {
    EVP_CipherInit_ex2(dec.get(), nullptr, nullptr, iv.data(), 0, nullptr);
    EVP_CIPHER_CTX_ctrl(dec.get(), EVP_CTRL_AEAD_SET_TAG, tag_size, tag.data());
    EVP_DecryptUpdate(dec.get(), nullptr, &outl, aad.data(), aad.size());
    EVP_DecryptUpdate(dec.get(), buf.data(), &outl, buf.data(), bytes);
    EVP_DecryptFinal_ex(dec.get(), buf.data() + outl, &outl);
  });
}

// The cheapest per-packet ChaCha20-Poly1305 OpenSSL 3.0 offers: its TLS record mode (RFC 7905),
// one parameter call with a 13-byte AAD, whose first 8 bytes are XORed into the nonce and
// whose last 2 give the length, then one EVP_Cipher call that derives the Poly1305 key,
// encrypts, and writes or checks the tag; for records of up to 192 bytes one ChaCha20 call
// makes the key block and the keystream together. squtun's 16-byte header does not fit
// that AAD, so this is the floor of what any packet costs through OpenSSL, not a path
// squtun can take. Opening checks the tag sealing wrote, so a broken round trip stops the run.
void time_openssl_tls(const Options& o, int bytes, Row& row) {
  const crypto::Key key = key_of(9);
  const auto size = static_cast<std::size_t>(bytes);
  std::vector<std::uint8_t> sealed(size + crypto::kAeadTagSize), opened(sealed.size());
  std::uint64_t counter = 0;
  const auto one = [&](const CipherCtx& ctx, std::uint8_t* out, const std::uint8_t* in,
                       std::size_t length) {
    std::array<std::uint8_t, 13> aad{};
    base::store_le(aad.data(), counter);
    aad[11] = static_cast<std::uint8_t>(length >> 8);
    aad[12] = static_cast<std::uint8_t>(length);
    std::array<OSSL_PARAM, 2> params{
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TLS1_AAD, aad.data(), aad.size()),
        OSSL_PARAM_construct_end()};
    return EVP_CIPHER_CTX_set_params(ctx.get(), params.data()) == 1 &&
           EVP_Cipher(ctx.get(), out, in, static_cast<unsigned>(size + crypto::kAeadTagSize)) > 0;
  };
  const CipherCtx enc = keyed_context(key, 1);
  const CipherCtx dec = keyed_context(key, 0);
  bool ok = true;
  row.tls_seal = ns_per_call(o.loop_seconds, [&] {
    ++counter;
    ok &= one(enc, sealed.data(), sealed.data(), size);
  });
  row.tls_open = ns_per_call(o.loop_seconds, [&] {
    ok &= one(dec, opened.data(), sealed.data(), sealed.size());
  });
  if (!ok) {
    std::fprintf(stderr, "OpenSSL's TLS one-shot failed\n");
    std::exit(1);
  }
}

// Seals in place in the slot, as the daemon does; opens into a separate buffer, because
// opening in place would destroy the message the next call opens (the work is the same).
void time_squtun(const Options& o, int bytes, Row& row) {
  const auto size = static_cast<std::size_t>(bytes);
  const Session sender{1, 2, SessionKeys{key_of(1), key_of(2)}, Role::Initiator, Duration{0}};
  const Session receiver{2, 1, SessionKeys{key_of(2), key_of(1)}, Role::Responder, Duration{0}};
  crypto::AeadContext aead;
  std::vector<std::uint8_t> slot(size + kDataOverhead, 0x5a);
  const std::span<std::uint8_t> all(slot);
  std::uint64_t counter = 0;
  bool ok = true;
  row.seal = ns_per_call(o.loop_seconds, [&] {
    ok &= seal_packet(aead, sender, counter++, all.subspan(kDataHeaderSize, size), all) != 0;
  });
  std::vector<std::uint8_t> out(size);
  row.open = ns_per_call(o.loop_seconds,
                         [&] { ok &= open_packet(aead, receiver, slot, out).has_value(); });
  if (!ok) {
    std::fprintf(stderr, "seal_packet or open_packet failed\n");
    std::exit(1);
  }
}

Row measure(const Options& o, int bytes) {
  Row row;
  if (o.run_openssl) {
    const auto speed = [&](const char* flags) {
      return openssl_speed_ns(bytes, o.openssl_seconds, flags).value_or(0);
    };
    row.speed = speed("");
    row.speed_dec = speed("-decrypt");
  }
  time_openssl_loops(o, bytes, row);
  time_openssl_tls(o, bytes, row);
  time_squtun(o, bytes, row);
  return row;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

Row median_of(const std::vector<Row>& rounds) {
  const auto of = [&](double Row::*field) {
    std::vector<double> values;
    for (const Row& r : rounds) values.push_back(r.*field);
    return median(values);
  };
  return Row{of(&Row::speed),    of(&Row::speed_dec), of(&Row::loop),
             of(&Row::evp_seal), of(&Row::evp_open),  of(&Row::tls_seal),
             of(&Row::tls_open), of(&Row::seal),      of(&Row::open)};
}

double ratio(double value, double reference) { return reference > 0 ? value / reference : 0; }

void print(int bytes, const Row& r) {
  std::printf(
      "%5d | %7.1f %7.1f | %7.1f | %7.1f %7.1f | %7.1f %7.1f | %7.1f %7.1f | x%.2f x%.2f | "
      "x%.2f x%.2f | x%.2f x%.2f\n",
      bytes, r.speed, r.speed_dec, r.loop, r.evp_seal, r.evp_open, r.tls_seal, r.tls_open, r.seal,
      r.open, ratio(r.seal, r.speed), ratio(r.open, r.speed_dec), ratio(r.tls_seal, r.speed),
      ratio(r.tls_open, r.speed_dec), ratio(r.seal, r.evp_seal), ratio(r.open, r.evp_open));
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "-h" || arg == "--help") {
      std::printf("usage: %s [--rounds R] [--seconds S] [--bytes N] [--no-openssl]\n", argv[0]);
      std::exit(0);
    }
    if (arg == "--no-openssl") {
      o.run_openssl = false;
    } else if (arg == "--rounds" && has_value) {
      o.rounds = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--seconds" && has_value) {
      o.openssl_seconds = std::max(1, std::atoi(argv[++i]));
      o.loop_seconds = o.openssl_seconds / 2.0;
    } else if (arg == "--bytes" && has_value) {
      o.sizes = {std::max(1, std::atoi(argv[++i]))};
    } else {
      std::fprintf(stderr, "usage: %s [--rounds R] [--seconds S] [--bytes N] [--no-openssl]\n",
                   argv[0]);
      std::exit(2);
    }
  }
  return o;
}

}  // namespace
}  // namespace squtun::protocol

int main(int argc, char** argv) {
  using namespace squtun::protocol;
  const Options o = parse(argc, argv);
  std::vector<std::vector<Row>> rounds(o.sizes.size());
  for (int round = 0; round < o.rounds; ++round) {
    for (std::size_t i = 0; i < o.sizes.size(); ++i) rounds[i].push_back(measure(o, o.sizes[i]));
  }
  std::printf("ns per call, CPU time, median of %d rounds\n", o.rounds);
  std::printf(
      "      | openssl speed   | loop    | EVP per packet  | TLS one-shot    | squtun          | "
      "squtun to     | TLS one-shot  | squtun to\n");
  std::printf(
      "      |                 |         |                 |                 |                 | "
      "openssl speed | to openssl    | EVP per packet\n");
  std::printf(
      "bytes |     enc     dec |     enc |    seal    open |    seal    open |    seal    open | "
      " seal   open  |  seal   open  |  seal   open\n");
  for (std::size_t i = 0; i < o.sizes.size(); ++i) print(o.sizes[i], median_of(rounds[i]));
  return 0;
}
