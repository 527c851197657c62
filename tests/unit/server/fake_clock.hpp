// The shared fake clock, and times written as ISO 8601 text, for the server tests.
#pragma once

#include <string>

#include "common/clock.hpp"
#include "tests/support/fake_clock.hpp"

namespace dollhouse::server::samples {

using FakeClock = ::dollhouse::testing::FakeClock;

inline SystemTime at(const std::string& iso) {
  SystemTime t;
  parse_iso8601(iso, t);
  return t;
}

}  // namespace dollhouse::server::samples
