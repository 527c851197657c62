// The views of the stats API that the weekly report also shows: crash analytics and activity.
// Pure functions of a StatsView; safe from any thread. docs/server.md describes every field.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "server/routes/stats_query.hpp"

namespace dollhouse::server {

// GET /api/v1/stats/crashes: crashes and errors by day with the installations active and
// crashed that day; per version installation-days, crashed installation-days and the
// crash-free rate; the top signatures (those at least `min_installations` installations
// reported on a day) and the events of all others.
nlohmann::json crash_figures(const StatsView& v, std::int64_t min_installations);

// GET /api/v1/stats/activity: active installations by day (distinct) and by week (weekly
// summaries), each feature counter per week, average startup and response times per version.
nlohmann::json activity_figures(const StatsView& v);

// GET /api/v1/stats/apps: the apps with events in the range, for the page's selector.
nlohmann::json apps_in(const AggregateRows& rows);

}  // namespace dollhouse::server
