// telemetry.json: the user's consent and preferences (the seed's TelemetryLocalConfig plus
// per-category switches).
//
// Written atomically (temporary file, fsync, rename) with mode 0600. A file that cannot be
// parsed is moved aside (telemetry.json.corrupt-<time>) and read as "no consent": a damaged
// file never turns collection on. Plain functions; the daemon calls them from its I/O thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/status.hpp"
#include "ipc/reasons.hpp"

namespace dollhouse::daemon {

// One app's setting (telemetry.json "apps": name -> object). An app without an entry is on.
struct AppConfig {
  bool enabled = true;
  // What this app reported before the user answered and was counted once consent came
  // (setup keys such as "installation" or "update 1.9.16"), so it is never counted twice.
  std::vector<std::string> counted_setup;
  bool operator==(const AppConfig&) const = default;
};

struct TelemetryConfig {
  std::string install_id;  // empty until consent is first given
  std::string created_at;
  bool enabled = false;
  bool consent_given = false;
  std::string consent_timestamp;
  std::string policy_version;
  std::int64_t max_data_retention = 90;  // days; maxDataRetention in the file
  // installation, update, crash, error, usage, performance.
  std::map<std::string, bool> categories;
  std::string endpoint;  // optional override of the ingestion URL
  // The user's answer; files written before it was recorded get it from consentGiven,
  // consentTimestamp and installId (consent_answer_of).
  ipc::ConsentAnswer answer = ipc::ConsentAnswer::kNotAnswered;
  std::map<std::string, AppConfig> apps;

  // Whether `app` is on (no entry: on).
  bool app_enabled(const std::string& app) const;

  // The seed's three coarse switches, derived from the categories.
  bool collect_crash_reports() const;
  bool collect_usage_stats() const;
  bool collect_performance_metrics() const;
  bool category_enabled(const std::string& category) const;
};

// A config with every category on and no consent.
TelemetryConfig default_config(SystemTime now);

nlohmann::json to_json(const TelemetryConfig& config);
// Lenient on missing fields (defaults), strict on types: a wrong type is a corrupt file.
Result<TelemetryConfig> config_from_json(const nlohmann::json& j);

struct LoadedConfig {
  TelemetryConfig config;
  bool existed = false;
  std::string moved_aside;  // where a corrupt file went, when it was corrupt
};

LoadedConfig load_config(const std::string& path, SystemTime now);
Status save_config(const std::string& path, const TelemetryConfig& config);

// Whether going from `before` to `after` only takes consent away: consent withdrawn, a category
// or an app switched off, a shorter retention, and nothing given that `before` did not give
// (no consent, category, app, policy, endpoint or longer retention added).
bool only_takes_consent_away(const TelemetryConfig& before, const TelemetryConfig& after);

// save_config for a full disk: rewrites the existing telemetry.json in the blocks it holds
// (overwrite_private_file_in_place). Only for a change that only_takes_consent_away: a crash in
// the middle leaves a file that load_config reads as damaged, that is as no consent.
Status save_config_in_place(const std::string& path, const TelemetryConfig& config);

}  // namespace dollhouse::daemon
