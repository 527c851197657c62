#include "daemon/log_throttle.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace dollhouse::daemon {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

TEST(LogThrottle, TheFirstOccurrenceIsLoggedAndRepeatsWithinTheIntervalAreLeftOut) {
  LogThrottle<Clock::time_point> throttle(60s);
  const Clock::time_point t0{};
  EXPECT_EQ(throttle.occurred(t0 + 1s), 0);
  for (int i = 0; i < 2089; ++i) EXPECT_FALSE(throttle.occurred(t0 + 2s).has_value());
  EXPECT_EQ(throttle.suppressed(), 2089);
  EXPECT_EQ(throttle.occurred(t0 + 61s), 2089) << "the next line says how many were left out";
  EXPECT_FALSE(throttle.occurred(t0 + 62s).has_value());
}

TEST(LogThrottle, ResetLogsTheNextOccurrenceAtOnce) {
  LogThrottle<Clock::time_point> throttle(60s);
  const Clock::time_point t0{};
  EXPECT_TRUE(throttle.occurred(t0).has_value());
  EXPECT_FALSE(throttle.occurred(t0 + 1s).has_value());
  throttle.reset();
  EXPECT_EQ(throttle.occurred(t0 + 2s), 0);
}

TEST(LogThrottle, AClockThatWentBackDoesNotSilenceTheLog) {
  LogThrottle<Clock::time_point> throttle(60s);
  const Clock::time_point t0 = Clock::time_point{} + 1h;
  EXPECT_TRUE(throttle.occurred(t0).has_value());
  EXPECT_TRUE(throttle.occurred(t0 - 30min).has_value());
}

}  // namespace
}  // namespace dollhouse::daemon
