// alloc_counter.cpp — an LD_PRELOAD library that counts heap allocations into a shared file,
// for tests/e2e/test_zero_alloc.sh, which checks that the data path makes no heap allocation
// per packet in the steady state.
//
//   SQUTUN_ALLOC_COUNTER=/tmp/x/a.count LD_PRELOAD=libsqutun_alloc_counter.so squtun -f ...
//
// The file (which the test creates, at least kFileSize bytes) is mapped MAP_SHARED when the
// library loads, before squtun runs any of its own code; every allocation then adds one to a
// 64-bit counter in it with a relaxed atomic add, and no system call.  The test reads the file
// (od) from outside whenever it likes: before and after a transfer, while the daemon runs.
// Nothing in the daemon has to cooperate, so its seccomp filter, blocked signals, dropped
// privileges or way of exiting cannot hide a count.  Children the daemon forks (the -p NAME
// resolver) stop counting in the shared file (pthread_atfork), so only the daemon's own calls
// are seen.  The file name is forgotten after the mapping (nothing else is kept open).
//
// File layout: little-endian uint64 words
//   [0] magic "SQALLOC1"   [1] pid of the counting process   [2] allocations (all kinds)
//   [3] bytes requested    [4] malloc   [5] calloc   [6] realloc(array)   [7] posix_memalign
//   [8] aligned_alloc      [9] memalign [10] valloc/pvalloc        [11] free (non-null)
//
// operator new and OpenSSL's CRYPTO_malloc end in malloc, so they are counted too.  The calls
// go on to glibc's own allocator through its exported __libc_* entry points (no dlsym, which
// itself allocates).  Not for sanitizer builds: the sanitizer runtime owns malloc there.
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void* __libc_valloc(std::size_t);
void* __libc_pvalloc(std::size_t);
void __libc_free(void*);
}

namespace {

constexpr std::size_t kWords = 16;
constexpr std::size_t kFileSize = 4096;
constexpr std::uint64_t kMagic = 0x31434f4c4c415153ULL;  // "SQALLOC1" read as little-endian

enum Word : std::size_t {
  kMagicWord = 0, kPid = 1, kTotal = 2, kBytes = 3, kMalloc = 4, kCalloc = 5, kRealloc = 6,
  kPosixMemalign = 7, kAlignedAlloc = 8, kMemalign = 9, kValloc = 10, kFree = 11,
};

// Until the file is mapped (and in forked children) counts go here, where nobody reads them.
std::uint64_t scratch[kWords];
std::uint64_t* volatile counters = scratch;

void count(Word kind, std::size_t bytes) {
  std::uint64_t* c = counters;
  __atomic_fetch_add(&c[kTotal], 1, __ATOMIC_RELAXED);
  __atomic_fetch_add(&c[kBytes], bytes, __ATOMIC_RELAXED);
  __atomic_fetch_add(&c[kind], 1, __ATOMIC_RELAXED);
}

void stop_counting_in_child() { counters = scratch; }

__attribute__((constructor)) void map_counter_file() {
  const char* path = std::getenv("SQUTUN_ALLOC_COUNTER");
  if (path == nullptr || *path == '\0') return;
  const int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return;  // the test sees the magic word missing and says so
  void* map = mmap(nullptr, kFileSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (map == MAP_FAILED) return;
  auto* words = static_cast<std::uint64_t*>(map);
  words[kPid] = static_cast<std::uint64_t>(getpid());
  __atomic_store_n(&words[kMagicWord], kMagic, __ATOMIC_RELEASE);
  counters = words;
  pthread_atfork(nullptr, nullptr, stop_counting_in_child);
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) void* malloc(std::size_t size) {
  count(kMalloc, size);
  return __libc_malloc(size);
}

__attribute__((visibility("default"))) void* calloc(std::size_t n, std::size_t size) {
  count(kCalloc, n * size);
  return __libc_calloc(n, size);
}

__attribute__((visibility("default"))) void* realloc(void* p, std::size_t size) {
  count(kRealloc, size);
  return __libc_realloc(p, size);
}

// glibc's reallocarray calls its realloc internally, past this library: counted here.
__attribute__((visibility("default"))) void* reallocarray(void* p, std::size_t n, std::size_t size) {
  count(kRealloc, n * size);
  if (size != 0 && n > static_cast<std::size_t>(-1) / size) {
    errno = ENOMEM;
    return nullptr;
  }
  return __libc_realloc(p, n * size);
}

__attribute__((visibility("default"))) int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
  count(kPosixMemalign, size);
  if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
  void* p = __libc_memalign(alignment, size);
  if (p == nullptr && size != 0) return ENOMEM;
  *out = p;
  return 0;
}

__attribute__((visibility("default"))) void* aligned_alloc(std::size_t alignment, std::size_t size) {
  count(kAlignedAlloc, size);
  return __libc_memalign(alignment, size);
}

__attribute__((visibility("default"))) void* memalign(std::size_t alignment, std::size_t size) {
  count(kMemalign, size);
  return __libc_memalign(alignment, size);
}

__attribute__((visibility("default"))) void* valloc(std::size_t size) {
  count(kValloc, size);
  return __libc_valloc(size);
}

__attribute__((visibility("default"))) void* pvalloc(std::size_t size) {
  count(kValloc, size);
  return __libc_pvalloc(size);
}

__attribute__((visibility("default"))) void free(void* p) {
  if (p != nullptr) __atomic_fetch_add(&counters[kFree], 1, __ATOMIC_RELAXED);
  __libc_free(p);
}

}  // extern "C"
