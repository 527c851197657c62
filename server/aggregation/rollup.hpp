// Daily aggregation: pure functions that turn cleaned events into counters, and the job that
// moves raw events older than the raw retention into those counters.
//
// Counters are keyed by UTC day, metric and dimension (see docs/server.md for the list). They
// hold counts and sums only, never an installId, a message or any other free text but the
// scrubbed error category and component. Everything here is a pure function of its inputs
// (time comes in as `now`), safe to call from any thread.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "server/storage/storage.hpp"

namespace dollhouse::server {

// "2025-01-13" for any time on that UTC day.
std::string utc_day(SystemTime t);

// The day an event counts for: the UTC day of its timestamp, or of `received` when the
// timestamp is missing or lies in the future (clock skew must not create future days).
std::string event_day(const nlohmann::json& event, SystemTime received);

// Adds one cleaned event's counters on `day` to `out`.
void roll_up_event(const std::string& day, const nlohmann::json& event, AggregateRows& out);

// All events' counters; events whose body is not JSON are skipped.
AggregateRows roll_up(const std::vector<StoredEvent>& events);

struct RetentionPolicy {
  std::chrono::seconds raw_events{std::chrono::hours(24)};
  std::chrono::seconds batch_ids{std::chrono::hours(24 * 30)};
};

// One run of the aggregation job at `now`: raw events received more than
// policy.raw_events ago become counters and are deleted; batch ids older than
// policy.batch_ids are forgotten.
Result<RollupReport> run_aggregation(Storage& storage, SystemTime now,
                                     const RetentionPolicy& policy);

}  // namespace dollhouse::server
