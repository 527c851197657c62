// GET /api/v1/stats/{installations|platforms|errors|updates|usage|ingest}?from=YYYY-MM-DD&to=…
//
// Answers from the daily aggregates plus a live rollup of the raw events not yet aggregated, so
// the numbers are complete up to the moment of the request. Each raw event is either in the
// aggregates or still raw, never both, so nothing is counted twice. Default range: the 30 days
// ending today (UTC); at most Limits::max_stats_days days.
#include <algorithm>
#include <cmath>

#include "server/aggregation/rollup.hpp"
#include "server/routes/routes.hpp"

namespace dollhouse::server {

namespace {

using nlohmann::json;
constexpr std::size_t kTopN = 20;

bool parse_day(const std::string& text, SystemTime& out) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  return parse_iso8601(text + "T00:00:00Z", out);
}

json number(double v) {
  if (std::floor(v) == v && std::fabs(v) < 9e15) return static_cast<std::int64_t>(v);
  return std::round(v * 100.0) / 100.0;
}

json ratio(double num, double den) {
  return den > 0 ? number(num / den) : json(nullptr);
}

class View {
 public:
  View(AggregateRows rows, std::vector<std::string> days)
      : rows_(std::move(rows)), days_(std::move(days)) {}

  double total(const std::string& metric, const std::string& dim) const {
    double sum = 0;
    for (const auto& [key, value] : rows_) {
      if (key.metric == metric && key.dim == dim) sum += value;
    }
    return sum;
  }
  std::map<std::string, double> by_dim(const std::string& metric) const {
    std::map<std::string, double> out;
    for (const auto& [key, value] : rows_) {
      if (key.metric == metric) out[key.dim] += value;
    }
    return out;
  }
  json object(const std::string& metric) const {
    json out = json::object();
    for (const auto& [dim, value] : by_dim(metric)) out[dim] = number(value);
    return out;
  }
  // [{"name":…,"count":…}], largest first (ties by name), at most kTopN.
  json top(const std::string& metric) const {
    auto m = by_dim(metric);
    std::vector<std::pair<std::string, double>> v(m.begin(), m.end());
    std::stable_sort(v.begin(), v.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    json out = json::array();
    for (std::size_t i = 0; i < v.size() && i < kTopN; ++i) {
      out.push_back({{"name", v[i].first}, {"count", number(v[i].second)}});
    }
    return out;
  }
  double on(const std::string& day, const std::string& metric, const std::string& dim) const {
    auto it = rows_.find({day, metric, dim});
    return it == rows_.end() ? 0.0 : it->second;
  }
  json on_object(const std::string& day, const std::string& metric) const {
    json out = json::object();
    for (auto it = rows_.lower_bound({day, metric, ""});
         it != rows_.end() && it->first.day == day && it->first.metric == metric; ++it) {
      out[it->first.dim] = number(it->second);
    }
    return out;
  }
  const std::vector<std::string>& days() const { return days_; }

 private:
  AggregateRows rows_;
  std::vector<std::string> days_;
};

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
          {"byCategory", v.top("errors.category")},
          {"byComponent", v.top("errors.component")},
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

Response handle_stats(ServerContext& ctx, const Request& req, std::string_view view_name) {
  using Builder = json (*)(const View&);
  static const std::map<std::string, Builder, std::less<>> kViews = {
      {"installations", installations},
      {"platforms", platforms},
      {"errors", errors},
      {"updates", updates},
      {"usage", usage},
      {"ingest", ingest}};
  auto builder = kViews.find(view_name);
  if (builder == kViews.end()) return Response::error(404, "not_found", "no such statistics");

  const SystemTime now = ctx.clock.now();
  SystemTime to_t{}, from_t{};
  auto to_it = req.query.find("to");
  auto from_it = req.query.find("from");
  if (to_it == req.query.end()) {
    parse_day(utc_day(now), to_t);
  } else if (!parse_day(to_it->second, to_t)) {
    return Response::error(400, "invalid_range", "to must be a date YYYY-MM-DD");
  }
  if (from_it == req.query.end()) {
    from_t = to_t - std::chrono::hours(24 * 29);
  } else if (!parse_day(from_it->second, from_t)) {
    return Response::error(400, "invalid_range", "from must be a date YYYY-MM-DD");
  }
  if (from_t > to_t) return Response::error(400, "invalid_range", "from is after to");
  if (to_t - from_t >= std::chrono::hours(24 * ctx.limits.max_stats_days)) {
    return Response::error(400, "invalid_range",
                           "at most " + std::to_string(ctx.limits.max_stats_days) + " days");
  }
  std::vector<std::string> days;
  for (SystemTime t = from_t; t <= to_t; t += std::chrono::hours(24)) days.push_back(utc_day(t));
  const std::string from = days.front(), to = days.back();

  auto rows = ctx.storage.aggregates(from, to);
  if (!rows) return storage_failure(ctx, rows.status());
  auto raw = ctx.storage.raw_events(from, to);
  if (!raw) return storage_failure(ctx, raw.status());
  for (const auto& [key, value] : roll_up(*raw)) (*rows)[key] += value;

  json body = builder->second(View(std::move(*rows), std::move(days)));
  body["from"] = from;
  body["to"] = to;
  Response r = Response::json(200, body);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace dollhouse::server
