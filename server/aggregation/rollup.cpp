#include "server/aggregation/rollup.hpp"

namespace dollhouse::server {

namespace {

using nlohmann::json;

std::string text_or(const json& obj, const char* key, const char* fallback = "unknown") {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return fallback;
  }
  return it->get<std::string>();
}

double number_or_zero(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_number() ? it->get<double>() : 0.0;
}

// Where one event's counters go: its day and its app.
struct Target {
  AggregateRows& out;
  const std::string& day;
  const std::string& app;
};

void add(const Target& t, const std::string& metric, const std::string& dim, double value = 1.0) {
  t.out[{t.day, t.app, metric, dim}] += value;
}

void add_platform(const Target& out, const std::string& prefix, const json& event) {
  static const json kEmpty = json::object();
  auto it = event.find("platform");
  const json& platform = it != event.end() && it->is_object() ? *it : kEmpty;
  add(out, prefix + ".os", text_or(platform, "os"));
  add(out, prefix + ".osVersion", text_or(platform, "osVersion"));
  add(out, prefix + ".arch", text_or(platform, "arch"));
  add(out, prefix + ".nodeVersion", text_or(platform, "nodeVersion", "none"));
  add(out, prefix + ".mcpClient", text_or(platform, "mcpClient"));
  add(out, prefix + ".version", text_or(event, "version"));
}

// The Monday a weekly summary covers: its weekStart when that is a date, else the Monday of
// the week it arrived in.
std::string summary_week(const json& event, const std::string& day) {
  const std::string start = text_or(event, "weekStart", "");
  SystemTime t;
  if (start.size() == 10 && parse_iso8601(start + "T00:00:00Z", t)) return iso_week_monday(start);
  // A timestamp: the local Monday's midnight in UTC, which lies within a day of that Monday
  // whatever the time zone; a day later is safely inside the week.
  if (parse_iso8601(start, t)) return iso_week_monday(utc_day(t + std::chrono::hours(24)));
  return iso_week_monday(day);
}

void roll_up_weekly(const Target& out, const json& event) {
  add_platform(out, "active", event);
  add(out, "usage.summaries", "count");
  add(out, "usage.activeDays", "sum", number_or_zero(event, "activeDays"));
  add(out, "usage.sessionCount", "sum", number_or_zero(event, "sessionCount"));
  const std::string week = summary_week(event, out.day);
  add(out, "weekly.summaries", week);
  if (auto f = event.find("features"); f != event.end() && f->is_object()) {
    for (const auto& [name, value] : f->items()) {
      if (!value.is_number()) continue;
      add(out, "usage.feature", name, value.get<double>());
      add(out, "weekly.feature", week + ":" + name, value.get<double>());
    }
  }
  const std::string version = text_or(event, "version");
  if (auto p = event.find("performance"); p != event.end() && p->is_object()) {
    for (const auto& [key, metric] : {std::pair{"avgStartupTime", "perf.startupMs"},
                                      std::pair{"avgResponseTime", "perf.responseMs"}}) {
      if (auto v = p->find(key); v != p->end() && v->is_number()) {
        add(out, std::string("usage.") + key, "sum", v->get<double>());
        add(out, std::string("usage.") + key, "count");
        add(out, std::string(metric) + ".sum", version, v->get<double>());
        add(out, std::string(metric) + ".count", version);
      }
    }
  }
  if (auto h = event.find("health"); h != event.end() && h->is_object()) {
    add(out, "usage.health", "crashCount", number_or_zero(*h, "crashCount"));
    add(out, "usage.health", "errorCount", number_or_zero(*h, "errorCount"));
  }
}

}  // namespace

std::string utc_day(SystemTime t) {
  return format_iso8601(t).substr(0, 10);
}

std::string event_day(const nlohmann::json& event, SystemTime received) {
  auto it = event.find("timestamp");
  SystemTime t;
  if (it != event.end() && it->is_string() && parse_iso8601(it->get<std::string>(), t) &&
      t <= received) {
    return utc_day(t);
  }
  return utc_day(received);
}

std::string iso_week_monday(const std::string& day) {
  SystemTime t;
  if (!parse_iso8601(day + "T00:00:00Z", t)) return day;
  const auto days = std::chrono::floor<std::chrono::days>(t);
  // 1970-01-01 was a Thursday: weekday 0 = Monday.
  const auto since_monday = (days.time_since_epoch().count() % 7 + 7 + 3) % 7;
  return utc_day(days - std::chrono::days(since_monday));
}

std::string event_app(const nlohmann::json& event) {
  return text_or(event, "app", "");
}

std::string crash_signature(const nlohmann::json& event) {
  const std::string type = text_or(event, "eventType", "");
  if (type != "crash" && type != "error") return "";
  return json::array({text_or(event, "errorCategory", ""), text_or(event, "component", ""),
                      text_or(event, "errorMessage", "")})
      .dump();
}

void roll_up_event(const std::string& day, const json& event, AggregateRows& rows) {
  const std::string app = event_app(event);
  const Target out{rows, day, app};
  const std::string type = text_or(event, "eventType");
  add(out, "events", type);
  if (type == "installation") {
    add(out, "installations", "total");
    add_platform(out, "installations", event);
    add(out, "installations.method", text_or(event, "installMethod"));
    add(out, "installations.type", text_or(event, "installType"));
  } else if (type == "update") {
    const bool success = event.value("success", false);
    add(out, "updates.outcome", success ? "success" : "failure");
    if (!success) add(out, "updates.errorCategory", text_or(event, "errorCategory"));
    add(out, "updates.toVersion", text_or(event, "toVersion"));
    add(out, "updates.durationMs", "sum", number_or_zero(event, "durationMs"));
  } else if (type == "crash" || type == "error") {
    add(out, "errors.kind", type);
    add(out, "errors." + type + ".version", text_or(event, "version"));
    add(out, "errors.category", text_or(event, "errorCategory"));
    add(out, "errors.component", text_or(event, "component"));
    add(out, "errors.errorType", text_or(event, "errorType"));
    if (auto r = event.find("recovered"); r != event.end() && r->is_boolean()) {
      add(out, "errors.recovered", r->get<bool>() ? "yes" : "no");
    }
  } else if (type == "weekly_summary") {
    roll_up_weekly(out, event);
  }
}

AggregateRows activity_rows(const DayActivity& activity, std::int64_t min_installations) {
  AggregateRows out;
  for (const ActivityRow& r : activity.activity) {
    const bool total = r.version.empty();
    const std::string dim = total ? "total" : r.version;
    const std::string suffix = total ? "" : ".version";
    out[{r.day, r.app, "activity.active" + suffix, dim}] += static_cast<double>(r.active);
    out[{r.day, r.app, "activity.crashed" + suffix, dim}] += static_cast<double>(r.crashed);
  }
  for (const SignatureRow& s : activity.signatures) {
    const std::string metric = "signatures." + s.kind;
    if (s.installs >= min_installations) {
      out[{s.day, s.app, metric, s.signature}] += static_cast<double>(s.events);
      out[{s.day, s.app, metric + ".installs", s.signature}] += static_cast<double>(s.installs);
    } else {
      out[{s.day, s.app, metric, kOtherSignatures}] += static_cast<double>(s.events);
    }
  }
  return out;
}

void fold_rare_signatures(AggregateRows& rows, std::int64_t min_installations) {
  AggregateRows other;
  for (auto it = rows.begin(); it != rows.end();) {
    const AggregateKey& key = it->first;
    const bool signature = key.metric == "signatures.crash" || key.metric == "signatures.error";
    if (!signature || key.dim == kOtherSignatures) {
      ++it;
      continue;
    }
    auto installs = rows.find({key.day, key.app, key.metric + ".installs", key.dim});
    if (installs != rows.end() && installs->second >= static_cast<double>(min_installations)) {
      ++it;
      continue;
    }
    other[{key.day, key.app, key.metric, kOtherSignatures}] += it->second;
    if (installs != rows.end()) rows.erase(installs);
    it = rows.erase(it);
  }
  for (const auto& [key, value] : other) rows[key] += value;
}

AggregateRows roll_up(const std::vector<StoredEvent>& events) {
  AggregateRows out;
  for (const StoredEvent& e : events) {
    json body = json::parse(e.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_object()) roll_up_event(e.day, body, out);
  }
  return out;
}

Result<RollupReport> run_aggregation(Storage& storage, SystemTime now,
                                     const RetentionPolicy& policy) {
  return storage.roll_up(
      now - policy.raw_events, now - policy.batch_ids,
      [](const std::vector<StoredEvent>& events) { return roll_up(events); },
      [k = policy.min_installations](const DayActivity& activity) {
        return activity_rows(activity, k);
      });
}

}  // namespace dollhouse::server
