// How big a run of the fault suite is: CI runs the short version, DOLLHOUSE_FAULT_LONG=1 the
// long one, and each test prints its figures in one line that docs/reliability.md quotes.
#pragma once

#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

namespace dollhouse::testing {

inline bool long_fault_run() {
  const char* v = std::getenv("DOLLHOUSE_FAULT_LONG");
  return v != nullptr && std::string_view(v) == "1";
}

// `short_count` in CI, `long_count` with DOLLHOUSE_FAULT_LONG=1.
inline int fault_rounds(int short_count, int long_count) {
  return long_fault_run() ? long_count : short_count;
}

// One line of figures, "FIGURES <test>: <text>", so the suite's output is easy to collect.
inline void print_figures(std::string_view test, const std::string& text) {
  std::cout << "FIGURES " << test << ": " << text << std::endl;
}

}  // namespace dollhouse::testing
