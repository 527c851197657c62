// Weekly usage rollup: apps send increments, the daemon keeps one running total per ISO week
// (weeks start on Monday, local time) and turns it into a single weekly_summary event when the
// week is over. Raw increments never leave the machine.
//
// Pure functions; the storage thread keeps the totals in telemetry.db between calls.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"

namespace dollhouse::daemon {

// Counter names an app may send, and the timing names (milliseconds).
const std::vector<std::string>& usage_counter_names();
const std::vector<std::string>& usage_timing_names();

struct UsageWeek {
  std::map<std::string, std::int64_t> counters;
  double startup_ms_total = 0;
  std::int64_t startup_samples = 0;
  double response_ms_total = 0;
  std::int64_t response_samples = 0;
  unsigned active_days = 0;  // bit i set: used on day i of the week (0 = Monday)
};

// Where a moment falls: the Monday that starts its week ("2026-11-23") and the day index.
struct WeekPosition {
  std::string week_start;
  int day_index = 0;
};
// From a local calendar date (tm_wday convention: 0 = Sunday).
WeekPosition week_position(int year, int month, int day, int weekday_sunday0);
// From a moment, in the machine's local time zone.
WeekPosition local_week_position(SystemTime t);

// Adds one usage message. Unknown names and out-of-range values are skipped; returns how many
// were skipped.
std::size_t fold_usage(UsageWeek& week, int day_index,
                       const std::map<std::string, std::int64_t>& counters,
                       const std::map<std::string, double>& timings_ms);

nlohmann::json usage_week_to_json(const UsageWeek& week);
// Stored totals (usage_week_to_json) as export shows them: activeDays is a count of days, not
// the weekday bit mask kept internally; every other field as stored.
nlohmann::json usage_totals_for_people(nlohmann::json stored);
UsageWeek usage_week_from_json(const nlohmann::json& j);

// The weekly_summary event body (eventType and its own fields; the daemon stamps the rest).
// Performance averages are included only when include_performance is true.
nlohmann::json weekly_summary(const std::string& week_start, const UsageWeek& week,
                              bool include_performance);

}  // namespace dollhouse::daemon
