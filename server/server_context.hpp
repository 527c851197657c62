// What every route handler shares: storage, clock, scrubber, rate limiter, limits and the
// in-memory counters /healthz reports.
//
// Built once by RunServer (or a test) and outlives every session. Storage, Scrubber and
// TokenBucket are thread-safe; the counters are atomics; limits are read-only after start.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/clock.hpp"
#include "privacy/privacy.hpp"
#include "server/rate_limiter.hpp"
#include "server/storage/storage.hpp"

namespace dollhouse::server {

struct Limits {
  std::size_t max_body_bytes = 1 << 20;  // on the wire and after inflating
  std::size_t max_header_bytes = 8 << 10;
  std::size_t max_events_per_batch = 1000;
  std::size_t max_connections = 256;
  std::chrono::seconds idle_timeout{30};     // keep-alive connection with no request
  std::chrono::seconds request_timeout{30};  // reading one request, writing one response
  int max_stats_days = 366;
  // Distinct installations that must report a crash or error signature on one day before its
  // text is kept and shown (the rest is counted under "other").
  std::int64_t min_installations = 5;
};

struct Counters {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> batches_stored{0};
  std::atomic<std::uint64_t> batches_duplicate{0};
  std::atomic<std::uint64_t> events_accepted{0};
  std::atomic<std::uint64_t> events_rejected{0};
  std::atomic<std::uint64_t> events_rejected_pii{0};
  std::atomic<std::uint64_t> rate_limited{0};
  std::atomic<std::uint64_t> overloaded{0};
  std::atomic<std::uint64_t> deletions{0};
  std::atomic<std::uint64_t> connections_open{0};
};

struct ServerContext {
  Storage& storage;
  const Clock& clock;
  const privacy::Scrubber& scrubber;
  TokenBucket& write_limiter;
  Limits limits;
  Counters counters;
  SystemTime started_at;
  // Non-empty: stats, exports and reports require "Authorization: Bearer <stats_token>".
  std::string stats_token;
};

}  // namespace dollhouse::server
