// A global token bucket for write requests (ingest and deletion). It knows nothing about
// clients: no IP address or other identifier is ever looked at or kept.
//
// `rate` tokens per second refill a bucket of `burst` tokens; each request takes one. When the
// bucket is empty the caller answers 429 with Retry-After. The policy is a pure function of
// `now`; the class adds a mutex so sessions on any thread can share one bucket.
#pragma once

#include <chrono>
#include <mutex>

#include "common/clock.hpp"

namespace dollhouse::server {

struct BucketState {
  double tokens = 0;
  SystemTime last{};
};

struct BucketDecision {
  bool allowed = false;
  int retry_after_seconds = 0;  // when !allowed: whole seconds until a token is back (>= 1)
};

// Refills `state` up to `now` and takes a token if one is there. rate <= 0 disables limiting.
BucketDecision take_token(BucketState& state, SystemTime now, double rate, double burst);

class TokenBucket {
 public:
  TokenBucket(double rate, double burst, SystemTime now) : rate_(rate), burst_(burst) {
    state_.tokens = burst;
    state_.last = now;
  }
  BucketDecision take(SystemTime now) {
    std::lock_guard lock(mutex_);
    return take_token(state_, now, rate_, burst_);
  }

 private:
  std::mutex mutex_;
  double rate_, burst_;
  BucketState state_;
};

}  // namespace dollhouse::server
