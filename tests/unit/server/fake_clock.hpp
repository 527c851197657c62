// A Clock the test moves by hand. Thread-safe.
#pragma once

#include <atomic>

#include "common/clock.hpp"

namespace dollhouse::server::samples {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(SystemTime start) : ms_(to_unix_millis(start)) {}
  SystemTime now() const override { return from_unix_millis(ms_.load()); }
  void advance(std::chrono::milliseconds d) { ms_ += d.count(); }
  void set(SystemTime t) { ms_ = to_unix_millis(t); }

 private:
  std::atomic<std::int64_t> ms_;
};

inline SystemTime at(const std::string& iso) {
  SystemTime t;
  parse_iso8601(iso, t);
  return t;
}

}  // namespace dollhouse::server::samples
