// GET /api/v1/stats/{installations|platforms|errors|updates|usage|ingest|crashes|activity|apps}
//     ?from=YYYY-MM-DD&to=…&app=NAME
//
// Answers from the daily aggregates plus a live rollup of the raw events not yet aggregated, so
// the numbers are complete up to the moment of the request (stats_query.hpp). Default range:
// the 30 days ending today (UTC); at most Limits::max_stats_days days; default app: all.
#include "server/routes/stats_views.hpp"

#include <algorithm>
#include <set>

#include "server/aggregation/rollup.hpp"
#include "server/routes/routes.hpp"

namespace dollhouse::server {

namespace {

using nlohmann::json;
constexpr std::size_t kTopN = 20;

json number(double v) {
  return stats_number(v);
}
json ratio(double num, double den) {
  return stats_ratio(num, den);
}
using View = StatsView;

json platform_block(const View& v, const std::string& prefix) {
  return {{"byOs", v.object(prefix + ".os")},
          {"byOsVersion", v.object(prefix + ".osVersion")},
          {"byArch", v.object(prefix + ".arch")},
          {"byNodeVersion", v.object(prefix + ".nodeVersion")},
          {"byMcpClient", v.object(prefix + ".mcpClient")},
          {"byVersion", v.object(prefix + ".version")}};
}

json installations(const View& v) {
  json by_day = json::array();
  for (const std::string& d : v.days()) {
    by_day.push_back({{"date", d},
                      {"total", number(v.on(d, "installations", "total"))},
                      {"byOs", v.on_object(d, "installations.os")}});
  }
  json out = platform_block(v, "installations");
  out["total"] = number(v.total("installations", "total"));
  out["byMethod"] = v.object("installations.method");
  out["byType"] = v.object("installations.type");
  out["byDay"] = by_day;
  return out;
}

json platforms(const View& v) {
  json active = platform_block(v, "active");
  active["summaries"] = number(v.total("usage.summaries", "count"));
  return {{"installations", platform_block(v, "installations")}, {"active", active}};
}

json errors(const View& v) {
  json by_day = json::array();
  for (const std::string& d : v.days()) {
    by_day.push_back({{"date", d},
                      {"crashes", number(v.on(d, "errors.kind", "crash"))},
                      {"errors", number(v.on(d, "errors.kind", "error"))}});
  }
  const double crashes = v.total("errors.kind", "crash");
  const double errs = v.total("errors.kind", "error");
  return {{"total", number(crashes + errs)},
          {"crashes", number(crashes)},
          {"errors", number(errs)},
          {"byCategory", v.top("errors.category", kTopN)},
          {"byComponent", v.top("errors.component", kTopN)},
          {"byErrorType", v.object("errors.errorType")},
          {"recovered", v.object("errors.recovered")},
          {"byDay", by_day}};
}

json updates(const View& v) {
  json by_day = json::array();
  for (const std::string& d : v.days()) {
    const double ok = v.on(d, "updates.outcome", "success");
    const double attempts = ok + v.on(d, "updates.outcome", "failure");
    by_day.push_back({{"date", d},
                      {"attempts", number(attempts)},
                      {"succeeded", number(ok)},
                      {"successRate", ratio(ok, attempts)}});
  }
  const double ok = v.total("updates.outcome", "success");
  const double failed = v.total("updates.outcome", "failure");
  return {{"attempts", number(ok + failed)},
          {"succeeded", number(ok)},
          {"failed", number(failed)},
          {"successRate", ratio(ok, ok + failed)},
          {"avgDurationMs", ratio(v.total("updates.durationMs", "sum"), ok + failed)},
          {"byErrorCategory", v.object("updates.errorCategory")},
          {"byToVersion", v.object("updates.toVersion")},
          {"byDay", by_day}};
}

json usage(const View& v) {
  const double n = v.total("usage.summaries", "count");
  json features = json::array();
  for (const auto& [name, total] : v.by_dim("usage.feature")) {
    features.push_back({{"name", name}, {"total", number(total)}, {"average", ratio(total, n)}});
  }
  return {{"summaries", number(n)},
          {"features", features},
          {"avgActiveDays", ratio(v.total("usage.activeDays", "sum"), n)},
          {"avgSessionCount", ratio(v.total("usage.sessionCount", "sum"), n)},
          {"avgStartupTimeMs",
           ratio(v.total("usage.avgStartupTime", "sum"), v.total("usage.avgStartupTime", "count"))},
          {"avgResponseTimeMs", ratio(v.total("usage.avgResponseTime", "sum"),
                                      v.total("usage.avgResponseTime", "count"))},
          {"crashCount", number(v.total("usage.health", "crashCount"))},
          {"errorCount", number(v.total("usage.health", "errorCount"))}};
}

json ingest(const View& v) {
  return {{"eventsByType", v.object("events")}, {"rejectedByReason", v.object("rejected")}};
}

}  // namespace

json crash_figures(const StatsView& v, std::int64_t min_installations) {
  json by_day = json::array();
  double active_days = 0, crashed_days = 0;
  for (const std::string& d : v.days()) {
    const double active = v.on(d, "activity.active", "total");
    const double crashed = v.on(d, "activity.crashed", "total");
    active_days += active;
    crashed_days += crashed;
    by_day.push_back({{"date", d},
                      {"crashes", number(v.on(d, "errors.kind", "crash"))},
                      {"errors", number(v.on(d, "errors.kind", "error"))},
                      {"activeInstallations", number(active)},
                      {"crashedInstallations", number(crashed)},
                      {"crashFreeRate", ratio(active - crashed, active)}});
  }
  const auto active = v.by_dim("activity.active.version");
  const auto crashed = v.by_dim("activity.crashed.version");
  const auto crash_events = v.by_dim("errors.crash.version");
  const auto error_events = v.by_dim("errors.error.version");
  std::set<std::string> versions;
  for (const auto* m : {&active, &crash_events, &error_events}) {
    for (const auto& [name, n] : *m) versions.insert(name);
  }
  auto at = [](const std::map<std::string, double>& m, const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? 0.0 : it->second;
  };
  std::vector<json> rows;
  for (const std::string& ver : versions) {
    const double a = at(active, ver), c = at(crashed, ver);
    rows.push_back({{"version", ver},
                    {"installationDays", number(a)},
                    {"crashedInstallationDays", number(c)},
                    {"crashFreeRate", ratio(a - c, a)},
                    {"crashes", number(at(crash_events, ver))},
                    {"errors", number(at(error_events, ver))}});
  }
  std::stable_sort(rows.begin(), rows.end(), [](const json& a, const json& b) {
    return a["installationDays"].get<double>() > b["installationDays"].get<double>();
  });

  std::vector<json> top;
  json other = {{"crash", 0}, {"error", 0}};
  for (const char* kind : {"crash", "error"}) {
    const std::string metric = std::string("signatures.") + kind;
    const auto installs = v.by_dim(metric + ".installs");
    for (const auto& [dim, events] : v.by_dim(metric)) {
      if (dim == kOtherSignatures) {
        other[kind] = number(events);
        continue;
      }
      const json sig = json::parse(dim, nullptr, /*allow_exceptions=*/false);
      if (!sig.is_array() || sig.size() != 3) continue;
      top.push_back({{"kind", kind},
                     {"category", sig[0]},
                     {"component", sig[1]},
                     {"message", sig[2]},
                     {"events", number(events)},
                     {"installationDays", number(at(installs, dim))}});
    }
  }
  std::stable_sort(top.begin(), top.end(), [](const json& a, const json& b) {
    return a["events"].get<double>() > b["events"].get<double>();
  });
  if (top.size() > kTopN) top.resize(kTopN);
  return {{"crashes", number(v.total("errors.kind", "crash"))},
          {"errors", number(v.total("errors.kind", "error"))},
          {"installationDays", number(active_days)},
          {"crashedInstallationDays", number(crashed_days)},
          {"crashFreeRate", ratio(active_days - crashed_days, active_days)},
          {"minInstallations", min_installations},
          {"byDay", by_day},
          {"byVersion", rows},
          {"top", top},
          {"other", other}};
}

json activity_figures(const StatsView& v) {
  json by_day = json::array();
  double peak = 0;
  for (const std::string& d : v.days()) {
    const double n = v.on(d, "activity.active", "total");
    peak = std::max(peak, n);
    by_day.push_back({{"date", d}, {"activeInstallations", number(n)}});
  }
  // Weeks by the Monday their summaries cover.
  std::map<std::string, json> weeks;
  std::set<std::string> feature_names;
  for (const auto& [monday, n] : v.by_dim("weekly.summaries")) {
    weeks[monday]["activeInstallations"] = number(n);
  }
  for (const auto& [dim, n] : v.by_dim("weekly.feature")) {
    if (dim.size() < 12 || dim[10] != ':') continue;
    const std::string monday = dim.substr(0, 10), name = dim.substr(11);
    weeks[monday]["features"][name] = number(n);
    feature_names.insert(name);
  }
  json by_week = json::array();
  for (auto& [monday, week] : weeks) {
    week["week"] = iso_week_label(monday);
    week["weekStart"] = monday;
    if (!week.contains("activeInstallations")) week["activeInstallations"] = 0;
    if (!week.contains("features")) week["features"] = json::object();
    by_week.push_back(week);
  }
  const auto startup_sum = v.by_dim("perf.startupMs.sum");
  const auto startup_n = v.by_dim("perf.startupMs.count");
  const auto response_sum = v.by_dim("perf.responseMs.sum");
  const auto response_n = v.by_dim("perf.responseMs.count");
  auto at = [](const std::map<std::string, double>& m, const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? 0.0 : it->second;
  };
  std::set<std::string> versions;
  for (const auto* m : {&startup_n, &response_n}) {
    for (const auto& [name, n] : *m) versions.insert(name);
  }
  json by_version = json::array();
  for (const std::string& ver : versions) {
    by_version.push_back(
        {{"version", ver},
         {"summaries", number(std::max(at(startup_n, ver), at(response_n, ver)))},
         {"avgStartupTimeMs", ratio(at(startup_sum, ver), at(startup_n, ver))},
         {"avgResponseTimeMs", ratio(at(response_sum, ver), at(response_n, ver))}});
  }
  return {{"peakDailyActiveInstallations", number(peak)},
          {"byDay", by_day},
          {"byWeek", by_week},
          {"features", json(feature_names)},
          {"byVersion", by_version}};
}

json apps_in(const AggregateRows& rows) {
  std::map<std::string, double> events;
  for (const auto& [key, value] : rows) {
    if (key.metric == "events" && key.app != kAllApps) events[key.app] += value;
  }
  json out = json::array();
  for (const auto& [app, n] : events) {
    out.push_back({{"name", app}, {"label", app_label(app)}, {"events", number(n)}});
  }
  return {{"apps", out}};
}

Response handle_stats(ServerContext& ctx, const Request& req, std::string_view view_name) {
  using Builder = json (*)(const View&);
  static const std::map<std::string, Builder, std::less<>> kViews = {
      {"installations", installations},
      {"platforms", platforms},
      {"errors", errors},
      {"updates", updates},
      {"usage", usage},
      {"ingest", ingest},
      {"activity", activity_figures}};
  auto builder = kViews.find(view_name);
  if (builder == kViews.end() && view_name != "crashes" && view_name != "apps") {
    return Response::error(404, "not_found", "no such statistics");
  }
  if (auto denied = check_stats_access(ctx, req)) return *denied;
  StatsQuery query;
  if (auto bad = parse_stats_query(ctx, req, query)) return *bad;
  auto rows = load_rows(ctx, query.from(), query.to());
  if (!rows) return storage_failure(ctx, rows.status());

  json body;
  if (view_name == "apps") {
    body = apps_in(*rows);
  } else {
    const View view(*rows, query);
    body = view_name == "crashes" ? crash_figures(view, ctx.limits.min_installations)
                                  : builder->second(view);
  }
  body["from"] = query.from();
  body["to"] = query.to();
  body["app"] = query.app.empty() ? json(nullptr) : json(query.app);
  Response r = Response::json(200, body);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace dollhouse::server
