// GET /api/v1/reports/weekly?week=YYYY-Www&app=NAME: one ISO week (Monday to Sunday, UTC) as a
// maintainer would publish it: installations, versions, crash-free rate by version, top
// crashes, feature usage, and the change from the week before. Built from the same counters as
// the stats API, so it carries the same guarantees (no installId, no signature text below k).
// Default week: the last complete one.
//
// GET /reports/YYYY-Www: the printable page that shows it (dashboard/report.html).
#include "server/aggregation/rollup.hpp"
#include "server/dashboard/assets.hpp"
#include "server/routes/routes.hpp"
#include "server/routes/stats_views.hpp"

namespace dollhouse::server {

namespace {

using nlohmann::json;

// Weekly summaries of a week arrive when it has closed, during the following week (later for a
// machine that was off): they are looked for this many days after the week's Monday.
constexpr int kSummaryDays = 14;

struct WeekFigures {
  json summary;  // the headline numbers compared week over week
  json detail;   // versions, top crashes, features
};

WeekFigures figures_of(const AggregateRows& rows, const std::string& monday, const std::string& app,
                       std::int64_t k) {
  StatsQuery week{days_between(monday, add_days(monday, 6)), app};
  StatsQuery later{days_between(monday, add_days(monday, kSummaryDays - 1)), app};
  const StatsView v(rows, week);
  const StatsView summaries(rows, later);
  const json crashes = crash_figures(v, k);
  const json activity = activity_figures(v);
  json features = json::object();
  for (const auto& [dim, n] : summaries.by_dim("weekly.feature")) {
    if (dim.size() > 11 && dim.compare(0, 10, monday) == 0) {
      features[dim.substr(11)] = stats_number(n);
    }
  }
  const double ok = v.total("updates.outcome", "success");
  const double attempts = ok + v.total("updates.outcome", "failure");
  WeekFigures out;
  out.summary = {
      {"week", iso_week_label(monday)},
      {"installations", stats_number(v.total("installations", "total"))},
      {"activeInstallations", stats_number(summaries.total("weekly.summaries", monday))},
      {"peakDailyActiveInstallations", activity["peakDailyActiveInstallations"]},
      {"crashes", crashes["crashes"]},
      {"errors", crashes["errors"]},
      {"crashFreeRate", crashes["crashFreeRate"]},
      {"updateSuccessRate", stats_ratio(ok, attempts)},
  };
  out.detail = {{"installationsByVersion", v.object("installations.version")},
                {"installationsByOs", v.object("installations.os")},
                {"versions", crashes["byVersion"]},
                {"topCrashes", crashes["top"]},
                {"otherCrashes", crashes["other"]},
                {"features", features}};
  return out;
}

json change(const json& now, const json& before) {
  if (!now.is_number() || !before.is_number()) return nullptr;
  return stats_number(now.get<double>() - before.get<double>());
}

}  // namespace

Response handle_weekly_report(ServerContext& ctx, const Request& req) {
  if (auto denied = check_stats_access(ctx, req)) return *denied;
  std::string monday;
  if (auto week = req.query.find("week"); week != req.query.end()) {
    auto start = iso_week_start(week->second);
    if (!start) return Response::error(400, "invalid_week", "week must be an ISO week YYYY-Www");
    monday = *start;
  } else {
    monday = add_days(iso_week_monday(utc_day(ctx.clock.now())), -7);
  }
  std::string app;
  if (auto bad = parse_app(req, app)) return *bad;

  const std::string previous = add_days(monday, -7);
  auto rows = load_rows(ctx, previous, add_days(monday, kSummaryDays - 1));
  if (!rows) return storage_failure(ctx, rows.status());
  const WeekFigures now = figures_of(*rows, monday, app, ctx.limits.min_installations);
  const WeekFigures before = figures_of(*rows, previous, app, ctx.limits.min_installations);

  json changes = json::object();
  for (const auto& [name, value] : now.summary.items()) {
    if (name != "week") changes[name] = change(value, before.summary[name]);
  }
  json body = now.summary;
  body.update(now.detail);
  body["weekStart"] = monday;
  body["weekEnd"] = add_days(monday, 6);
  body["app"] = app.empty() ? json(nullptr) : json(app);
  body["minInstallations"] = ctx.limits.min_installations;
  body["previous"] = before.summary;
  body["changes"] = changes;
  Response r = Response::json(200, body);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace dollhouse::server
