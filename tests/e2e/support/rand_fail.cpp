// Preloaded into a daemon by test_data_path_failure.sh: OpenSSL's RAND_bytes fails once
// SQUTUN_RAND_FAIL_AFTER_MS milliseconds have passed since its first call, as the generator
// would when its entropy source breaks. Only the clock is read (the vDSO, no system call the
// daemon's seccomp filter could refuse).
#include <dlfcn.h>

#include <chrono>
#include <cstdlib>

extern "C" int RAND_bytes(unsigned char* buf, int num) {
  using Clock = std::chrono::steady_clock;
  using RandBytes = int (*)(unsigned char*, int);
  static const RandBytes real = reinterpret_cast<RandBytes>(dlsym(RTLD_NEXT, "RAND_bytes"));
  static const char* after = std::getenv("SQUTUN_RAND_FAIL_AFTER_MS");
  static const Clock::time_point fail_from =
      Clock::now() + std::chrono::milliseconds(after ? std::atol(after) : 0);
  if (after && Clock::now() >= fail_from) return 0;
  return real(buf, num);
}
