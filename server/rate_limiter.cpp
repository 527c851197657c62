#include "server/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace dollhouse::server {

BucketDecision take_token(BucketState& state, SystemTime now, double rate, double burst) {
  if (rate <= 0) return {true, 0};
  if (now > state.last) {
    double elapsed = std::chrono::duration<double>(now - state.last).count();
    state.tokens = std::min(burst, state.tokens + elapsed * rate);
    state.last = now;
  }
  if (state.tokens >= 1.0) {
    state.tokens -= 1.0;
    return {true, 0};
  }
  double wait = (1.0 - state.tokens) / rate;
  return {false, std::max(1, static_cast<int>(std::ceil(wait)))};
}

}  // namespace dollhouse::server
