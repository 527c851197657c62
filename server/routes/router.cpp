#include <spdlog/spdlog.h>

#include "server/routes/routes.hpp"
#include "server/routes/stats_query.hpp"

namespace dollhouse::server {

namespace {

constexpr std::string_view kTelemetry = "/api/v1/telemetry";
constexpr std::string_view kEvents = "/api/v1/events";
constexpr std::string_view kStats = "/api/v1/stats/";
constexpr std::string_view kReports = "/reports/";

Response method_not_allowed(std::string_view allow) {
  Response r = Response::error(405, "method_not_allowed",
                               "this path accepts " + std::string(allow) + " only");
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

Response storage_failure(ServerContext& ctx, const Status& status) {
  if (status.code() == "busy" || status.code() == "unavailable") {
    ctx.counters.overloaded++;
    spdlog::warn("storage unavailable: {}", status.message());
    Response r = Response::error(503, "unavailable", "the server is busy; retry later");
    r.headers.emplace_back("Retry-After", "5");
    return r;
  }
  spdlog::error("storage error: {}", status.message());
  return Response::error(500, "storage_error", "the server could not complete the request");
}

Response route(ServerContext& ctx, const Request& req) {
  ctx.counters.requests++;
  const std::string_view path = req.path;
  if (path == kTelemetry || path == kEvents) {
    if (req.method != "POST") return method_not_allowed("POST");
    return handle_ingest(ctx, req);
  }
  for (std::string_view base : {kTelemetry, kEvents}) {
    if (starts_with(path, base) && path.size() > base.size() + 1 && path[base.size()] == '/') {
      if (req.method != "DELETE") return method_not_allowed("DELETE");
      return handle_delete(ctx, req, path.substr(base.size() + 1));
    }
  }
  if (starts_with(path, kStats)) {
    if (req.method != "GET" && req.method != "HEAD") return method_not_allowed("GET, HEAD");
    return handle_stats(ctx, req, path.substr(kStats.size()));
  }
  if (path == "/healthz") {
    if (req.method != "GET" && req.method != "HEAD") return method_not_allowed("GET, HEAD");
    return handle_health(ctx, req);
  }
  if (path == "/api/v1/export" || path == "/api/v1/reports/weekly") {
    if (req.method != "GET" && req.method != "HEAD") return method_not_allowed("GET, HEAD");
    return path == "/api/v1/export" ? handle_export(ctx, req) : handle_weekly_report(ctx, req);
  }
  if (starts_with(path, kReports) && iso_week_start(std::string(path.substr(kReports.size())))) {
    if (req.method != "GET" && req.method != "HEAD") return method_not_allowed("GET, HEAD");
    return handle_dashboard(ctx, req, "/reports/");
  }
  if (path == "/" || path == "/dashboard.js" || path == "/dashboard.css" || path == "/report.js" ||
      path == "/pages.js") {
    if (req.method != "GET" && req.method != "HEAD") return method_not_allowed("GET, HEAD");
    return handle_dashboard(ctx, req, path);
  }
  return Response::error(404, "not_found", "no such path");
}

}  // namespace dollhouse::server
