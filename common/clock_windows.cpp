#include <windows.h>
// clang-format off
#include <bcrypt.h>
// clang-format on

#include <algorithm>
#include <stdexcept>

#include "common/clock.hpp"

namespace dollhouse {

void SystemRandom::fill(unsigned char* buf, std::size_t n) {
  while (n > 0) {
    ULONG chunk = static_cast<ULONG>(std::min<std::size_t>(n, 1 << 20));
    if (!BCRYPT_SUCCESS(::BCryptGenRandom(nullptr, buf, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG))) {
      throw std::runtime_error("BCryptGenRandom failed: the system random source is unavailable");
    }
    buf += chunk;
    n -= chunk;
  }
}

}  // namespace dollhouse
