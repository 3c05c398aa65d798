// The command line: the input is an argv as it lies in memory, each argument ended by a NUL
// (the last one need not be), handed to parse_options.
//
// Invariants (fuzz_options_check.h):
//  - parse_options throws UsageError, with a message, or returns options; nothing else;
//  - what it returns holds: ports in 1..65535, a tunnel (-l, -i, -k; -p with -r; -b an
//    address of the same family as a literal -p), -a 0..86400, -c 1..86400, -m 1..65535
//    only with its own action, no empty names, -b always an address literal;
//  - the same input parses to the same options again;
//  - the options written back as a command line (long options with attached values, and
//    short options with separate ones) parse to the same options.
// The input is also parsed after a complete tunnel (-l -i -k, which it may override) and
// before -m 1500, so that one odd value among otherwise missing options is still accepted
// or refused on its own merits (an -a 86401 alone would only ever meet "-l is required").

#include <cstdint>
#include <string>

#include "fuzz_options_check.h"

namespace {

using namespace squtun::fuzz;

const Args kTunnel{"-l", "7777", "-i", "tun0", "-k", "site.key"};
const Args kMtu{"-m", "1500"};

Args concat(const Args& a, const Args& b) {
  Args all = a;
  all.insert(all.end(), b.begin(), b.end());
  return all;
}

void check(const Args& args) {
  const auto o = parse_checked(args);
  const auto again = parse_checked(args);
  require(o.has_value() == again.has_value());
  if (!o) return;
  require(same_options(*o, *again));
  check_round_trip(*o);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Args args;
  std::string arg;
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == '\0') {
      args.push_back(arg);
      arg.clear();
    } else {
      arg += static_cast<char>(data[i]);
    }
  }
  if (!arg.empty()) args.push_back(arg);

  check(args);
  check(concat(kTunnel, args));
  check(concat(args, kMtu));
  return 0;
}
