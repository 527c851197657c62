// The seed of a fault test's random choices (when to kill, how many events): fresh each run so
// the suite keeps exploring, printed so a failing run can be replayed with
// DOLLHOUSE_FAULT_SEED=<seed>.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string_view>

namespace dollhouse::testing {

inline std::uint32_t fault_seed(std::string_view test) {
  std::uint32_t seed = 0;
  if (const char* v = std::getenv("DOLLHOUSE_FAULT_SEED"); v != nullptr && *v != '\0') {
    seed = static_cast<std::uint32_t>(std::strtoul(v, nullptr, 10));
  } else {
    seed = std::random_device()();
  }
  std::cout << test << ": seed " << seed << " (replay with DOLLHOUSE_FAULT_SEED=" << seed << ")"
            << std::endl;
  return seed;
}

}  // namespace dollhouse::testing
