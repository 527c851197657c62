#include <sys/random.h>

#include <cerrno>
#include <stdexcept>

#include "common/clock.hpp"

namespace dollhouse {

void SystemRandom::fill(unsigned char* buf, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    ssize_t got = getrandom(buf + done, n - done, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("getrandom failed: the kernel random source is unavailable");
    }
    done += static_cast<std::size_t>(got);
  }
}

}  // namespace dollhouse
