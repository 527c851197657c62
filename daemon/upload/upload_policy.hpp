// Upload policy as pure functions: when to try again after a failure, what a server's answer
// means, and what an ingestion URL may be. No I/O; time and randomness come in as arguments so
// backoff sequences are tested with a fake clock and a fixed random source.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "common/status.hpp"

namespace dollhouse::daemon {

using Millis = std::chrono::milliseconds;

// Exponential backoff with full jitter: a uniformly random delay in
// [0, min(cap, base * 2^(n-1))] after the n-th consecutive failure (n >= 1); 0 for n < 1.
// Spreads the retries of many machines over the whole window, so a server outage is not met by a
// synchronised storm.
Millis backoff_delay(int consecutive_failures, Millis base, Millis cap, RandomSource& random);

// Retry-After as delta-seconds ("120") or an HTTP-date ("Wed, 21 Oct 2026 07:28:00 GMT"),
// relative to now. nullopt when absent or unparsable; never negative.
std::optional<Millis> parse_retry_after(std::string_view value, SystemTime now);

// What to do with a batch after the server answered with `status` (0: no answer at all:
// network, TLS or timeout). Only 4xx other than 408 and 429 drops a batch.
enum class UploadOutcome { kDelivered, kRetry, kDropBatch };
UploadOutcome classify_status(int status);

// A parsed ingestion URL.
struct Endpoint {
  bool tls = true;
  std::string host;  // without brackets for IPv6
  std::string port;
  std::string target;  // path and query, starting with '/'
  std::string text;    // the URL as given

  // The URL remote deletion goes to: <url>/<installId>.
  std::string deletion_target(const std::string& install_id) const;
};

// https://host[:port]/path, or http:// only to a loopback address (127.0.0.0/8, ::1,
// localhost). Anything else is refused with a message saying why.
Result<Endpoint> parse_endpoint(std::string_view url);
bool is_loopback_host(std::string_view host);

}  // namespace dollhouse::daemon
