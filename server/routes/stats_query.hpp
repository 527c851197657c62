// What the stats API, the exports and the weekly report share: the range and app of a request,
// the counters of a range (aggregates plus the live rollup of raw events not aggregated yet),
// a view of them for one app or all, and the access check.
//
// Each raw event is either in the aggregates or still raw, never both, and a day's
// distinct-installation counts come either from the aggregates (closed days) or live from the
// raw events (open days), so nothing is counted twice. Pure functions but load_rows (storage)
// and check_stats_access (the configured token); safe from any thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/http/message.hpp"
#include "server/server_context.hpp"

namespace dollhouse::server {

// A parsed ?from=YYYY-MM-DD&to=YYYY-MM-DD&app=NAME (or ?days=N&to=…: the N days ending at
// `to`). `app` empty = all apps.
struct StatsQuery {
  std::vector<std::string> days;  // every day from..to
  std::string app;
  const std::string& from() const { return days.front(); }
  const std::string& to() const { return days.back(); }
};

// The request's range (`from`..`to`, or the `days` days ending at `to`; default: the 30 days
// ending today, UTC; at most
// Limits::max_stats_days) and app ("all" or missing: every app). On a bad parameter: the 400
// to send.
std::optional<Response> parse_stats_query(const ServerContext& ctx, const Request& req,
                                          StatsQuery& out);

// The request's app: "" for all (no app, empty, or "all"), else a valid app name; on anything
// else the 400 to send.
std::optional<Response> parse_app(const Request& req, std::string& out);

// Every day from `from` to `to` (YYYY-MM-DD), or nothing when either is not a date.
std::vector<std::string> days_between(const std::string& from, const std::string& to);
// `day` moved by `n` days; "" when it is not a date.
std::string add_days(const std::string& day, int n);

// ISO 8601 weeks: "2025-W03" for its Monday "2025-01-13", and back (std::nullopt when the text
// is not a week that exists).
std::string iso_week_label(const std::string& monday);
std::optional<std::string> iso_week_start(const std::string& label);

// The counters of [from, to] for every app: aggregates, the rollup of raw events, and the
// distinct-installation counts of days not closed yet (signatures below the server's k folded).
Result<AggregateRows> load_rows(ServerContext& ctx, const std::string& from, const std::string& to);

// Rows as one app sees them. For one app: that app's rows. For all apps: every app's rows
// added up, with versions named "app version" (a version number means nothing without its
// app), and distinct installations from the kAllApps rows (an installation running two apps
// counts once).
class StatsView {
 public:
  StatsView(const AggregateRows& rows, const StatsQuery& query);

  double total(const std::string& metric, const std::string& dim) const;
  std::map<std::string, double> by_dim(const std::string& metric) const;
  double on(const std::string& day, const std::string& metric, const std::string& dim) const;
  std::map<std::string, double> on_by_dim(const std::string& day, const std::string& metric) const;
  // {dim: number}
  nlohmann::json object(const std::string& metric) const;
  nlohmann::json on_object(const std::string& day, const std::string& metric) const;
  // [{"name":…,"count":…}], largest first (ties by name), at most `limit`.
  nlohmann::json top(const std::string& metric, std::size_t limit) const;
  const std::vector<std::string>& days() const { return query_.days; }
  const StatsQuery& query() const { return query_; }

 private:
  struct Key {
    std::string day, metric, dim;
    friend bool operator<(const Key& a, const Key& b) {
      return std::tie(a.day, a.metric, a.dim) < std::tie(b.day, b.metric, b.dim);
    }
  };
  std::map<Key, double> rows_;
  StatsQuery query_;
};

// A JSON number: integers as integers, other values as they are.
nlohmann::json exact_number(double v);
// A JSON number: integers exactly, other values rounded to two decimals.
nlohmann::json stats_number(double v);
// num / den as stats_number, null when den is 0.
nlohmann::json stats_ratio(double num, double den);

// How an app is named in "all apps" views: its name, or "(unnamed)" for events without one.
std::string app_label(const std::string& app);

// Without --stats-token: std::nullopt (public). With it: std::nullopt when the request carries
// "Authorization: Bearer <token>", else the 401 to send.
std::optional<Response> check_stats_access(const ServerContext& ctx, const Request& req);

}  // namespace dollhouse::server
