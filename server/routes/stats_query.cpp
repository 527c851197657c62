#include "server/routes/stats_query.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <set>

#include "privacy/vocabulary.hpp"
#include "server/aggregation/rollup.hpp"

namespace dollhouse::server {

namespace {

using nlohmann::json;

bool parse_day(const std::string& text, SystemTime& out) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  return parse_iso8601(text + "T00:00:00Z", out) && utc_day(out) == text;
}

// Metrics whose dimension is a version of the event's app.
bool is_version_metric(const std::string& metric) {
  static const std::set<std::string, std::less<>> kVersionMetrics = {
      "installations.version",    "active.version",       "updates.toVersion",
      "errors.crash.version",     "errors.error.version", "activity.active.version",
      "activity.crashed.version", "perf.startupMs.sum",   "perf.startupMs.count",
      "perf.responseMs.sum",      "perf.responseMs.count"};
  return kVersionMetrics.count(metric) > 0;
}

// Distinct-installation totals of one app, which do not add up over apps.
bool is_distinct_total(const std::string& metric) {
  return metric == "activity.active" || metric == "activity.crashed";
}

}  // namespace

std::vector<std::string> days_between(const std::string& from, const std::string& to) {
  SystemTime a, b;
  std::vector<std::string> out;
  if (!parse_day(from, a) || !parse_day(to, b)) return out;
  for (SystemTime t = a; t <= b; t += std::chrono::hours(24)) out.push_back(utc_day(t));
  return out;
}

std::string add_days(const std::string& day, int n) {
  SystemTime t;
  if (!parse_day(day, t)) return "";
  return utc_day(t + std::chrono::hours(24) * n);
}

std::string iso_week_label(const std::string& monday) {
  // The ISO year and week are those of the week's Thursday.
  const std::string thursday = add_days(monday, 3);
  if (thursday.empty()) return "";
  const std::string jan1 = thursday.substr(0, 4) + "-01-01";
  const int ordinal = static_cast<int>(days_between(jan1, thursday).size());  // 1-based
  char buf[16];
  std::snprintf(buf, sizeof buf, "%s-W%02d", thursday.substr(0, 4).c_str(), (ordinal - 1) / 7 + 1);
  return buf;
}

std::optional<std::string> iso_week_start(const std::string& label) {
  if (label.size() != 8 || label[4] != '-' || label[5] != 'W') return std::nullopt;
  for (std::size_t i : {0u, 1u, 2u, 3u, 6u, 7u}) {
    if (label[i] < '0' || label[i] > '9') return std::nullopt;
  }
  const int week = std::stoi(label.substr(6));
  if (week < 1) return std::nullopt;
  // Week 1 is the week with January 4th in it.
  const std::string monday =
      add_days(iso_week_monday(label.substr(0, 4) + "-01-04"), 7 * (week - 1));
  if (monday.empty() || iso_week_label(monday) != label) return std::nullopt;
  return monday;
}

std::optional<Response> parse_stats_query(const ServerContext& ctx, const Request& req,
                                          StatsQuery& out) {
  SystemTime to_t{}, from_t{};
  auto to_it = req.query.find("to");
  auto from_it = req.query.find("from");
  if (to_it == req.query.end()) {
    parse_day(utc_day(ctx.clock.now()), to_t);
  } else if (!parse_day(to_it->second, to_t)) {
    return Response::error(400, "invalid_range", "to must be a date YYYY-MM-DD");
  }
  auto days_it = req.query.find("days");
  if (from_it != req.query.end() && days_it != req.query.end()) {
    return Response::error(400, "invalid_range", "give either from or days, not both");
  }
  if (days_it != req.query.end()) {
    const std::string& text = days_it->second;
    const bool digits =
        !text.empty() && text.size() <= 6 &&
        std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    const long n = digits ? std::stol(text) : 0;
    if (n < 1 || n > ctx.limits.max_stats_days) {
      return Response::error(
          400, "invalid_range",
          "days must be a number from 1 to " + std::to_string(ctx.limits.max_stats_days));
    }
    from_t = to_t - std::chrono::hours(24) * (n - 1);
  } else if (from_it == req.query.end()) {
    from_t = to_t - std::chrono::hours(24 * 29);
  } else if (!parse_day(from_it->second, from_t)) {
    return Response::error(400, "invalid_range", "from must be a date YYYY-MM-DD");
  }
  if (from_t > to_t) return Response::error(400, "invalid_range", "from is after to");
  if (to_t - from_t >= std::chrono::hours(24 * ctx.limits.max_stats_days)) {
    return Response::error(400, "invalid_range",
                           "at most " + std::to_string(ctx.limits.max_stats_days) + " days");
  }
  out.days = days_between(utc_day(from_t), utc_day(to_t));
  return parse_app(req, out.app);
}

std::optional<Response> parse_app(const Request& req, std::string& out) {
  out.clear();
  auto app = req.query.find("app");
  if (app == req.query.end() || app->second.empty() || app->second == "all") return std::nullopt;
  if (!privacy::is_app_name(app->second)) {
    return Response::error(400, "invalid_app",
                           "app must be an app's name (letters, digits and -_.@/, at most " +
                               std::to_string(privacy::kMaxAppNameLength) + ") or all");
  }
  out = app->second;
  return std::nullopt;
}

Result<AggregateRows> load_rows(ServerContext& ctx, const std::string& from,
                                const std::string& to) {
  auto snap = ctx.storage.read_range(from, to);
  if (!snap) return snap.status();
  AggregateRows rows = std::move(snap->aggregates);
  for (const auto& [key, value] : roll_up(snap->raw_events)) rows[key] += value;
  for (const auto& [key, value] :
       activity_rows(snap->open_activity, ctx.limits.min_installations)) {
    rows[key] += value;
  }
  fold_rare_signatures(rows, ctx.limits.min_installations);
  return rows;
}

StatsView::StatsView(const AggregateRows& rows, const StatsQuery& query) : query_(query) {
  const bool all = query.app.empty();
  for (const auto& [key, value] : rows) {
    if (!all) {
      if (key.app == query.app) rows_[{key.day, key.metric, key.dim}] += value;
      continue;
    }
    if (key.app == kAllApps) {
      rows_[{key.day, key.metric, key.dim}] += value;
    } else if (is_distinct_total(key.metric)) {
      continue;  // the kAllApps row has it, counting each installation once
    } else if (is_version_metric(key.metric)) {
      rows_[{key.day, key.metric, app_label(key.app) + " " + key.dim}] += value;
    } else {
      rows_[{key.day, key.metric, key.dim}] += value;
    }
  }
}

double StatsView::total(const std::string& metric, const std::string& dim) const {
  double sum = 0;
  for (const std::string& day : query_.days) sum += on(day, metric, dim);
  return sum;
}

std::map<std::string, double> StatsView::by_dim(const std::string& metric) const {
  std::map<std::string, double> out;
  for (const std::string& day : query_.days) {
    for (const auto& [dim, value] : on_by_dim(day, metric)) out[dim] += value;
  }
  return out;
}

double StatsView::on(const std::string& day, const std::string& metric,
                     const std::string& dim) const {
  auto it = rows_.find({day, metric, dim});
  return it == rows_.end() ? 0.0 : it->second;
}

std::map<std::string, double> StatsView::on_by_dim(const std::string& day,
                                                   const std::string& metric) const {
  std::map<std::string, double> out;
  for (auto it = rows_.lower_bound({day, metric, ""});
       it != rows_.end() && it->first.day == day && it->first.metric == metric; ++it) {
    out[it->first.dim] += it->second;
  }
  return out;
}

json StatsView::object(const std::string& metric) const {
  json out = json::object();
  for (const auto& [dim, value] : by_dim(metric)) out[dim] = stats_number(value);
  return out;
}

json StatsView::on_object(const std::string& day, const std::string& metric) const {
  json out = json::object();
  for (const auto& [dim, value] : on_by_dim(day, metric)) out[dim] = stats_number(value);
  return out;
}

json StatsView::top(const std::string& metric, std::size_t limit) const {
  auto m = by_dim(metric);
  std::vector<std::pair<std::string, double>> v(m.begin(), m.end());
  std::stable_sort(v.begin(), v.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  json out = json::array();
  for (std::size_t i = 0; i < v.size() && i < limit; ++i) {
    out.push_back({{"name", v[i].first}, {"count", stats_number(v[i].second)}});
  }
  return out;
}

json exact_number(double v) {
  if (std::floor(v) == v && std::fabs(v) < 9e15) return static_cast<std::int64_t>(v);
  return v;
}

json stats_number(double v) {
  return exact_number(std::floor(v) == v ? v : std::round(v * 100.0) / 100.0);
}

json stats_ratio(double num, double den) {
  return den > 0 ? stats_number(num / den) : json(nullptr);
}

std::string app_label(const std::string& app) {
  return app.empty() ? "(unnamed)" : app;
}

std::optional<Response> check_stats_access(const ServerContext& ctx, const Request& req) {
  if (ctx.stats_token.empty()) return std::nullopt;
  // "Bearer" is a scheme name, so its case does not matter (RFC 9110, 11.1).
  constexpr std::string_view kBearer = "bearer ";
  const std::string_view auth = req.authorization;
  const bool bearer =
      auth.size() > kBearer.size() &&
      std::equal(kBearer.begin(), kBearer.end(), auth.begin(), [](char want, char got) {
        return want == static_cast<char>(std::tolower(static_cast<unsigned char>(got)));
      });
  const std::string_view given = bearer ? auth.substr(kBearer.size()) : std::string_view();
  // Digests compared in constant time, so the answer's timing says nothing about the token,
  // not even its length.
  unsigned char want[SHA256_DIGEST_LENGTH], got[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(ctx.stats_token.data()), ctx.stats_token.size(),
         want);
  SHA256(reinterpret_cast<const unsigned char*>(given.data()), given.size(), got);
  if (bearer && CRYPTO_memcmp(want, got, sizeof want) == 0) return std::nullopt;
  Response r = Response::error(401, "unauthorized",
                               "this server's statistics need a token: send Authorization: "
                               "Bearer <token> (the server's --stats-token)");
  r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"dollhouse-telemetry stats\"");
  return r;
}

}  // namespace dollhouse::server
