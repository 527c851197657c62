// Reconnection delay for the client library's background thread.
//
// A pure function of the attempt number and a random fraction, so it is tested without clocks.
// Header-only; safe from any thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace dollhouse::telemetry::detail {

// Delay before the next connection attempt after `failures` consecutive failed attempts
// (failures >= 1): min * 2^(failures-1), capped at max, then "equal jitter": a uniformly random
// point in [delay/2, delay] picked by `random_fraction` in [0, 1]. Never below min/2, never
// above max, so many clients restarted together do not reconnect in lockstep.
inline std::chrono::milliseconds reconnect_delay(std::uint32_t failures,
                                                 std::chrono::milliseconds min,
                                                 std::chrono::milliseconds max,
                                                 double random_fraction) {
  using std::chrono::milliseconds;
  min = std::max(min, milliseconds(1));
  max = std::max(max, min);
  std::int64_t delay = min.count();
  for (std::uint32_t i = 1; i < failures && delay < max.count(); ++i) delay *= 2;
  delay = std::min(delay, max.count());
  random_fraction = std::clamp(random_fraction, 0.0, 1.0);
  const double half = static_cast<double>(delay) / 2.0;
  return milliseconds(static_cast<std::int64_t>(half + half * random_fraction));
}

}  // namespace dollhouse::telemetry::detail
