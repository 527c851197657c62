// Daily aggregation: pure functions that turn cleaned events into counters, and the job that
// moves raw events older than the raw retention into those counters.
//
// Counters are keyed by UTC day, app, metric and dimension (see docs/server.md for the list).
// They hold counts and sums only, never an installId, and no free text but the scrubbed error
// category, component and (for signatures at least k installations reported) message. Everything
// here is a pure function of its inputs (time comes in as `now`), safe to call from any thread.
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

// "2025-01-13" (a Monday) for any day of the ISO week of `day` (YYYY-MM-DD); `day` itself when
// it is not a date.
std::string iso_week_monday(const std::string& day);

// The event's app, "" when it names none.
std::string event_app(const nlohmann::json& event);

// What identifies a crash or an error for the top list: the JSON array [errorCategory,
// component, errorMessage] (each "" when missing) as compact text; "" for other events.
std::string crash_signature(const nlohmann::json& event);

// Adds one cleaned event's counters on `day` (under the event's app) to `out`.
void roll_up_event(const std::string& day, const nlohmann::json& event, AggregateRows& out);

// All events' counters; events whose body is not JSON are skipped.
AggregateRows roll_up(const std::vector<StoredEvent>& events);

// The dimension that collects the signatures fewer than k installations reported on a day.
inline constexpr const char* kOtherSignatures = "other";

// One day's distinct-installation counts as counters: activity.active / activity.crashed
// (dim "total") and activity.active.version / activity.crashed.version (dim = version); and
// signatures.crash / signatures.error (events; dim = signature) with .installs beside, for
// each signature at least `min_installations` distinct installations reported that day; the
// events of every other signature are added under kOtherSignatures, without their text.
AggregateRows activity_rows(const DayActivity& activity, std::int64_t min_installations);

// Folds, in rows read back from storage, every signature fewer than `min_installations`
// installations reported on its day into kOtherSignatures: a day closed when k was lower
// shows no more than the k in force now allows.
void fold_rare_signatures(AggregateRows& rows, std::int64_t min_installations);

// Installations that must have reported a crash signature on a day before its text is kept.
inline constexpr std::int64_t kDefaultMinInstallations = 5;

struct RetentionPolicy {
  std::chrono::seconds raw_events{std::chrono::hours(24)};
  std::chrono::seconds batch_ids{std::chrono::hours(24 * 30)};
  std::int64_t min_installations = kDefaultMinInstallations;
};

// One run of the aggregation job at `now`: raw events received more than
// policy.raw_events ago become counters and are deleted; batch ids older than
// policy.batch_ids are forgotten.
Result<RollupReport> run_aggregation(Storage& storage, SystemTime now,
                                     const RetentionPolicy& policy);

}  // namespace dollhouse::server
