#include "daemon/config.hpp"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/native_path.hpp"
#include "common/private_file.hpp"
#include "daemon/settings.hpp"
#include "ipc/reasons.hpp"
#include "privacy/privacy.hpp"

namespace dollhouse::daemon {

using nlohmann::json;

bool TelemetryConfig::category_enabled(const std::string& category) const {
  auto it = categories.find(category);
  return it == categories.end() ? true : it->second;
}
bool TelemetryConfig::app_enabled(const std::string& app) const {
  auto it = apps.find(app);
  return it == apps.end() || it->second.enabled;
}
bool TelemetryConfig::collect_crash_reports() const {
  return category_enabled("crash") && category_enabled("error");
}
bool TelemetryConfig::collect_usage_stats() const {
  return category_enabled("usage");
}
bool TelemetryConfig::collect_performance_metrics() const {
  return category_enabled("performance");
}

TelemetryConfig default_config(SystemTime now) {
  TelemetryConfig c;
  c.created_at = format_iso8601(now);
  c.max_data_retention = kDefaultMaxDataRetention;
  for (const auto& name : privacy::all_categories()) c.categories[name] = true;
  return c;
}

json to_json(const TelemetryConfig& c) {
  json j = {{"installId", c.install_id.empty() ? json() : json(c.install_id)},
            {"createdAt", c.created_at},
            {"enabled", c.enabled},
            {"consentGiven", c.consent_given},
            {"consentTimestamp", c.consent_timestamp.empty() ? json() : json(c.consent_timestamp)},
            {"policyVersion", c.policy_version.empty() ? json() : json(c.policy_version)},
            {"collectCrashReports", c.collect_crash_reports()},
            {"collectUsageStats", c.collect_usage_stats()},
            {"collectPerformanceMetrics", c.collect_performance_metrics()},
            {ipc::field::kMaxDataRetention, c.max_data_retention},
            {"categories", c.categories}};
  if (!c.endpoint.empty()) j["endpoint"] = c.endpoint;
  j["consentState"] = c.answer;
  json apps = json::object();
  for (const auto& [name, app] : c.apps) {
    json entry = {{"enabled", app.enabled}};
    if (!app.counted_setup.empty()) entry["countedSetup"] = app.counted_setup;
    apps[name] = std::move(entry);
  }
  j["apps"] = std::move(apps);
  return j;
}

namespace {

template <typename T>
bool read_field(const json& j, const char* key, T& out, std::string& error) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  try {
    out = it->get<T>();
    return true;
  } catch (const json::exception&) {
    error = std::string("field ") + key + " has the wrong type";
    return false;
  }
}

}  // namespace

Result<TelemetryConfig> config_from_json(const json& j) {
  if (!j.is_object()) return Status::error("corrupt", "telemetry.json is not a JSON object");
  TelemetryConfig c = default_config(SystemTime{});
  c.created_at.clear();
  std::string error;
  bool ok = read_field(j, "installId", c.install_id, error) &&
            read_field(j, "createdAt", c.created_at, error) &&
            read_field(j, "enabled", c.enabled, error) &&
            read_field(j, "consentGiven", c.consent_given, error) &&
            read_field(j, "consentTimestamp", c.consent_timestamp, error) &&
            read_field(j, "policyVersion", c.policy_version, error) &&
            read_field(j, ipc::field::kMaxDataRetention, c.max_data_retention, error) &&
            read_field(j, "endpoint", c.endpoint, error);
  if (!ok) return Status::error("corrupt", error);
  std::string answer;
  if (!read_field(j, "consentState", answer, error)) return Status::error("corrupt", error);
  if (answer.empty()) {
    // Written before the answer was recorded: a yes is given; a no after an installId existed
    // (made at the first yes) is a withdrawal; any other no is a decline.
    c.answer = c.consent_given               ? ipc::ConsentAnswer::kGiven
               : c.consent_timestamp.empty() ? ipc::ConsentAnswer::kNotAnswered
               : c.install_id.empty()        ? ipc::ConsentAnswer::kDeclined
                                             : ipc::ConsentAnswer::kWithdrawn;
  } else if (auto parsed = ipc::parse_consent_answer(answer)) {
    c.answer = *parsed;
  } else {
    return Status::error("corrupt",
                         "consentState is not one of not_answered, declined, given, "
                         "withdrawn");
  }
  // consentGiven is the seed's switch and wins: a file that says no is never read as yes.
  if (!c.consent_given && c.answer == ipc::ConsentAnswer::kGiven) {
    c.answer = ipc::ConsentAnswer::kWithdrawn;
  }
  if (auto it = j.find("apps"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return Status::error("corrupt", "apps must be an object");
    for (const auto& [name, entry] : it->items()) {
      if (!entry.is_object())
        return Status::error("corrupt", "apps." + name + " must be an object");
      AppConfig app;
      if (!read_field(entry, "enabled", app.enabled, error) ||
          !read_field(entry, "countedSetup", app.counted_setup, error)) {
        return Status::error("corrupt", "apps." + name + ": " + error);
      }
      c.apps[name] = std::move(app);
    }
  }
  if (!c.install_id.empty() && !is_uuid(c.install_id)) {
    return Status::error("corrupt", "installId is not a UUID");
  }
  if (c.max_data_retention < kMinMaxDataRetention || c.max_data_retention > kMaxMaxDataRetention) {
    return Status::error("corrupt", "maxDataRetention must be between " +
                                        std::to_string(kMinMaxDataRetention) + " and " +
                                        std::to_string(kMaxMaxDataRetention) + " days");
  }
  // The seed's coarse switches, for files written by other tools; categories refine them.
  bool crash = true, usage = true, perf = true;
  if (!read_field(j, "collectCrashReports", crash, error) ||
      !read_field(j, "collectUsageStats", usage, error) ||
      !read_field(j, "collectPerformanceMetrics", perf, error)) {
    return Status::error("corrupt", error);
  }
  c.categories["crash"] = crash;
  c.categories["error"] = crash;
  c.categories["usage"] = usage;
  c.categories["performance"] = perf;
  if (auto it = j.find("categories"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return Status::error("corrupt", "categories must be an object");
    for (const auto& name : privacy::all_categories()) {
      auto v = it->find(name);
      if (v == it->end()) continue;
      if (!v->is_boolean()) return Status::error("corrupt", "categories." + name + " must be bool");
      c.categories[name] = v->get<bool>();
    }
  }
  return c;
}

LoadedConfig load_config(const std::string& path, SystemTime now) {
  LoadedConfig out;
  out.config = default_config(now);
  std::ifstream in(native_path(path), std::ios::binary);
  if (!in) return out;
  out.existed = true;
  std::stringstream buf;
  buf << in.rdbuf();
  json j = json::parse(buf.str(), nullptr, false);
  Result<TelemetryConfig> parsed =
      j.is_discarded() ? Result<TelemetryConfig>(Status::error("corrupt", "not valid JSON"))
                       : config_from_json(j);
  if (parsed) {
    out.config = std::move(parsed.value());
    if (out.config.created_at.empty()) out.config.created_at = format_iso8601(now);
    return out;
  }
  // Keep the damaged file for the user to inspect; start over with no consent.
  std::string aside = path + ".corrupt-" + std::to_string(to_unix_millis(now));
  in.close();
  std::error_code ec;
  std::filesystem::rename(native_path(path), native_path(aside), ec);
  if (!ec) out.moved_aside = aside;
  return out;
}

Status save_config(const std::string& path, const TelemetryConfig& config) {
  return write_private_file(path, to_json(config).dump(2) + "\n");
}

bool only_takes_consent_away(const TelemetryConfig& before, const TelemetryConfig& after) {
  bool takes = false;
  auto compare = [&takes](bool was_on, bool is_on) {
    if (was_on && !is_on) takes = true;
    return !is_on || was_on;  // false: `after` gives something `before` did not
  };
  if (!compare(before.consent_given, after.consent_given)) return false;
  if (!compare(before.enabled, after.enabled)) return false;
  if (after.consent_given && after.policy_version != before.policy_version) return false;
  if (after.install_id != before.install_id || after.endpoint != before.endpoint) return false;
  if (after.max_data_retention > before.max_data_retention) return false;
  if (after.max_data_retention < before.max_data_retention) takes = true;
  for (const auto& name : privacy::all_categories()) {
    if (!compare(before.category_enabled(name), after.category_enabled(name))) return false;
  }
  for (const auto& [name, app] : after.apps) {
    if (!compare(before.app_enabled(name), app.enabled)) return false;
  }
  for (const auto& [name, app] : before.apps) {
    // An entry that went away switched its app on again.
    if (!app.enabled && after.apps.count(name) == 0) return false;
  }
  return takes;
}

Status save_config_in_place(const std::string& path, const TelemetryConfig& config) {
  return overwrite_private_file_in_place(path, to_json(config).dump(2) + "\n");
}

}  // namespace dollhouse::daemon
