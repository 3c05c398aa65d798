#pragma once

#include <memory>

namespace squtun::base {

// A unique_ptr that releases its object with a C library's free function, e.g.
// UniqueHandle<EVP_MAC, EVP_MAC_free> or UniqueHandle<addrinfo, freeaddrinfo>.
template <auto free_fn>
struct FreeWith {
  template <typename T>
  void operator()(T* object) const {
    free_fn(object);
  }
};

template <typename T, auto free_fn>
using UniqueHandle = std::unique_ptr<T, FreeWith<free_fn>>;

}  // namespace squtun::base
