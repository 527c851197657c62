// Keeps a repeated log line from flooding the log: the first occurrence is logged, later ones
// at most once per interval, each saying how many were left out since the last line.
//
// A pure value: the caller passes `now`, so the rule is tested without a clock. Not
// thread-safe; one owner.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace dollhouse::daemon {

template <typename TimePoint>
class LogThrottle {
 public:
  using Duration = typename TimePoint::duration;
  explicit LogThrottle(Duration interval) : interval_(interval) {}

  // nullopt: leave this occurrence out. Otherwise log it, with the number of occurrences
  // left out before it. A clock that went back counts as the interval having passed.
  std::optional<std::int64_t> occurred(TimePoint now) {
    if (last_ && now >= *last_ && now - *last_ < interval_) {
      ++suppressed_;
      return std::nullopt;
    }
    last_ = now;
    std::int64_t left_out = suppressed_;
    suppressed_ = 0;
    return left_out;
  }
  // Occurrences left out since the last logged one.
  std::int64_t suppressed() const { return suppressed_; }
  // The condition cleared: the next occurrence is logged at once.
  void reset() {
    last_.reset();
    suppressed_ = 0;
  }

 private:
  Duration interval_;
  std::optional<TimePoint> last_;
  std::int64_t suppressed_ = 0;
};

}  // namespace dollhouse::daemon
