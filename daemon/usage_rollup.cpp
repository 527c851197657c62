#include "daemon/usage_rollup.hpp"

#include <bit>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "daemon/settings.hpp"

namespace dollhouse::daemon {

using nlohmann::json;

const std::vector<std::string>& usage_counter_names() {
  static const std::vector<std::string> k = {
      "personasUsed",   "skillsUsed",        "templatesUsed", "agentsUsed", "memoriesUsed",
      "portfolioSyncs", "collectionBrowses", "sessions",      "errors",     "crashes"};
  return k;
}

const std::vector<std::string>& usage_timing_names() {
  static const std::vector<std::string> k = {"startup", "response"};
  return k;
}

namespace {

std::int64_t days_from_civil(int y, int m, int d) {
  using namespace std::chrono;
  sys_days sd{year{y} / month{static_cast<unsigned>(m)} / day{static_cast<unsigned>(d)}};
  return sd.time_since_epoch().count();
}

std::string date_string(std::int64_t days) {
  std::chrono::sys_days sd{std::chrono::days(days)};
  std::chrono::year_month_day ymd(sd);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

bool is_known(const std::vector<std::string>& names, const std::string& name) {
  for (const auto& n : names) {
    if (n == name) return true;
  }
  return false;
}

}  // namespace

WeekPosition week_position(int year, int month, int day, int weekday_sunday0) {
  int day_index = (weekday_sunday0 + 6) % 7;  // Monday = 0
  return {date_string(days_from_civil(year, month, day) - day_index), day_index};
}

WeekPosition local_week_position(SystemTime t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
#ifdef _WIN32
  localtime_s(&tm, &tt);
#else
  localtime_r(&tt, &tm);
#endif
  return week_position(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_wday);
}

std::size_t fold_usage(UsageWeek& week, int day_index,
                       const std::map<std::string, std::int64_t>& counters,
                       const std::map<std::string, double>& timings_ms) {
  std::size_t skipped = 0;
  for (const auto& [name, value] : counters) {
    if (!is_known(usage_counter_names(), name) || value < 0 || value > kMaxUsageIncrement) {
      ++skipped;
      continue;
    }
    week.counters[name] += value;
  }
  for (const auto& [name, ms] : timings_ms) {
    if (!std::isfinite(ms) || ms < 0 || ms > kMaxTimingMs) {
      ++skipped;
    } else if (name == "startup") {
      week.startup_ms_total += ms;
      ++week.startup_samples;
    } else if (name == "response") {
      week.response_ms_total += ms;
      ++week.response_samples;
    } else {
      ++skipped;
    }
  }
  if (day_index >= 0 && day_index < 7) week.active_days |= 1u << day_index;
  return skipped;
}

json usage_week_to_json(const UsageWeek& w) {
  return {{"counters", w.counters},
          {"startupMsTotal", w.startup_ms_total},
          {"startupSamples", w.startup_samples},
          {"responseMsTotal", w.response_ms_total},
          {"responseSamples", w.response_samples},
          {"activeDays", w.active_days}};
}

nlohmann::json usage_totals_for_people(nlohmann::json stored) {
  if (!stored.is_object()) return stored;
  if (auto it = stored.find("activeDays"); it != stored.end() && it->is_number_integer()) {
    stored["activeDays"] = std::popcount(static_cast<unsigned>(it->get<std::int64_t>()) & 0x7fu);
  }
  return stored;
}

UsageWeek usage_week_from_json(const json& j) {
  UsageWeek w;
  if (!j.is_object()) return w;
  try {
    w.counters = j.value("counters", std::map<std::string, std::int64_t>{});
    w.startup_ms_total = j.value("startupMsTotal", 0.0);
    w.startup_samples = j.value("startupSamples", std::int64_t{0});
    w.response_ms_total = j.value("responseMsTotal", 0.0);
    w.response_samples = j.value("responseSamples", std::int64_t{0});
    w.active_days = j.value("activeDays", 0u) & 0x7fu;
  } catch (const json::exception&) {
    return UsageWeek{};
  }
  return w;
}

json weekly_summary(const std::string& week_start, const UsageWeek& w, bool include_performance) {
  auto count = [&](const char* name) -> std::int64_t {
    auto it = w.counters.find(name);
    return it == w.counters.end() ? 0 : it->second;
  };
  json features = json::object();
  for (const char* name : {"personasUsed", "skillsUsed", "templatesUsed", "agentsUsed",
                           "memoriesUsed", "portfolioSyncs", "collectionBrowses"}) {
    features[name] = count(name);
  }
  json summary = {{"eventType", "weekly_summary"},
                  {"weekStart", week_start},
                  {"activeDays", std::popcount(w.active_days)},
                  {"sessionCount", count("sessions")},
                  {"features", features},
                  {"health", {{"crashCount", count("crashes")}, {"errorCount", count("errors")}}}};
  if (include_performance) {
    auto avg = [](double total, std::int64_t n) {
      return n == 0 ? 0.0 : std::round(total / static_cast<double>(n));
    };
    summary["performance"] = {{"avgStartupTime", avg(w.startup_ms_total, w.startup_samples)},
                              {"avgResponseTime", avg(w.response_ms_total, w.response_samples)}};
  }
  return summary;
}

}  // namespace dollhouse::daemon
