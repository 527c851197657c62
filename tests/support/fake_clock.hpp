// A Clock the test moves by hand, at millisecond resolution. Thread-safe: the daemon's storage
// thread and the server's workers read it while the test sets it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "common/clock.hpp"

namespace dollhouse::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(SystemTime start) : ms_(to_unix_millis(start)) {}
  SystemTime now() const override { return from_unix_millis(ms_.load()); }
  void advance(std::chrono::milliseconds d) { ms_ += d.count(); }
  void set(SystemTime t) { ms_ = to_unix_millis(t); }

 private:
  std::atomic<std::int64_t> ms_;
};

}  // namespace dollhouse::testing
