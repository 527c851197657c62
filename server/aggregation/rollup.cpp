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

void add(AggregateRows& out, const std::string& day, const std::string& metric,
         const std::string& dim, double value = 1.0) {
  out[{day, metric, dim}] += value;
}

void add_platform(AggregateRows& out, const std::string& day, const std::string& prefix,
                  const json& event) {
  static const json kEmpty = json::object();
  auto it = event.find("platform");
  const json& platform = it != event.end() && it->is_object() ? *it : kEmpty;
  add(out, day, prefix + ".os", text_or(platform, "os"));
  add(out, day, prefix + ".osVersion", text_or(platform, "osVersion"));
  add(out, day, prefix + ".arch", text_or(platform, "arch"));
  add(out, day, prefix + ".nodeVersion", text_or(platform, "nodeVersion", "none"));
  add(out, day, prefix + ".mcpClient", text_or(platform, "mcpClient"));
  add(out, day, prefix + ".version", text_or(event, "version"));
}

void roll_up_weekly(AggregateRows& out, const std::string& day, const json& event) {
  add_platform(out, day, "active", event);
  add(out, day, "usage.summaries", "count");
  add(out, day, "usage.activeDays", "sum", number_or_zero(event, "activeDays"));
  add(out, day, "usage.sessionCount", "sum", number_or_zero(event, "sessionCount"));
  if (auto f = event.find("features"); f != event.end() && f->is_object()) {
    for (const auto& [name, value] : f->items()) {
      if (value.is_number()) add(out, day, "usage.feature", name, value.get<double>());
    }
  }
  if (auto p = event.find("performance"); p != event.end() && p->is_object()) {
    for (const char* key : {"avgStartupTime", "avgResponseTime"}) {
      if (auto v = p->find(key); v != p->end() && v->is_number()) {
        add(out, day, std::string("usage.") + key, "sum", v->get<double>());
        add(out, day, std::string("usage.") + key, "count");
      }
    }
  }
  if (auto h = event.find("health"); h != event.end() && h->is_object()) {
    add(out, day, "usage.health", "crashCount", number_or_zero(*h, "crashCount"));
    add(out, day, "usage.health", "errorCount", number_or_zero(*h, "errorCount"));
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

void roll_up_event(const std::string& day, const json& event, AggregateRows& out) {
  const std::string type = text_or(event, "eventType");
  add(out, day, "events", type);
  if (type == "installation") {
    add(out, day, "installations", "total");
    add_platform(out, day, "installations", event);
    add(out, day, "installations.method", text_or(event, "installMethod"));
    add(out, day, "installations.type", text_or(event, "installType"));
  } else if (type == "update") {
    const bool success = event.value("success", false);
    add(out, day, "updates.outcome", success ? "success" : "failure");
    if (!success) add(out, day, "updates.errorCategory", text_or(event, "errorCategory"));
    add(out, day, "updates.toVersion", text_or(event, "toVersion"));
    add(out, day, "updates.durationMs", "sum", number_or_zero(event, "durationMs"));
  } else if (type == "crash" || type == "error") {
    add(out, day, "errors.kind", type);
    add(out, day, "errors.category", text_or(event, "errorCategory"));
    add(out, day, "errors.component", text_or(event, "component"));
    add(out, day, "errors.errorType", text_or(event, "errorType"));
    if (auto r = event.find("recovered"); r != event.end() && r->is_boolean()) {
      add(out, day, "errors.recovered", r->get<bool>() ? "yes" : "no");
    }
  } else if (type == "weekly_summary") {
    roll_up_weekly(out, day, event);
  }
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
  return storage.roll_up(now - policy.raw_events, now - policy.batch_ids,
                         [](const std::vector<StoredEvent>& events) { return roll_up(events); });
}

}  // namespace dollhouse::server
