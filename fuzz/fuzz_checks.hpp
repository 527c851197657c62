// What the fuzz targets share: a check that stops the run when an invariant of the code under
// test does not hold (libFuzzer then saves the input as a crash-* reproducer), and the fixed
// identity the privacy engine is built with, so that a reproducer behaves the same on every
// machine.
#pragma once

#include <cstdio>
#include <cstdlib>

#include "privacy/privacy.hpp"

namespace dollhouse::fuzz {

// Aborts with `what` when `condition` is false. Unlike assert(), it holds in every build type.
inline void check(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

// A person and machine whose names the scrubber must remove; the seed corpus uses them.
inline privacy::MachineIdentity fixed_identity() {
  privacy::MachineIdentity who;
  who.home_dirs = {"/home/alice"};
  who.user_names = {"alice"};
  who.real_names = {"Alice Liddell"};
  who.host_names = {"wonderland.example.org", "wonderland"};
  return who;
}

}  // namespace dollhouse::fuzz
