// The route handlers, one file each, and the table that picks one for a request.
//
// Each handler is a function of the shared ServerContext and one Request; it may block on
// storage (sessions call it from an I/O thread) and must be safe to run on several threads at
// once. Handlers never log a client address or an installId.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/http/message.hpp"
#include "server/server_context.hpp"

namespace dollhouse::server {

// POST /api/v1/telemetry and /api/v1/events.
Response handle_ingest(ServerContext& ctx, const Request& req);
// DELETE /api/v1/telemetry/{installId}.
Response handle_delete(ServerContext& ctx, const Request& req, std::string_view install_id);
// GET /api/v1/stats/{installations|platforms|errors|updates|usage|ingest|crashes|activity|apps}.
Response handle_stats(ServerContext& ctx, const Request& req, std::string_view view);
// GET /api/v1/export?dataset=…&format=csv|json.
Response handle_export(ServerContext& ctx, const Request& req);
// GET /api/v1/reports/weekly?week=YYYY-Www.
Response handle_weekly_report(ServerContext& ctx, const Request& req);
// GET /, /dashboard.js, /dashboard.css, /report.js and /reports/YYYY-Www (the report page).
Response handle_dashboard(ServerContext& ctx, const Request& req, std::string_view asset);

// One CSV record (RFC 4180: CRLF, quoted where needed; see export.cpp).
std::string csv_row(const std::vector<std::string>& fields);
// GET /healthz.
Response handle_health(ServerContext& ctx, const Request& req);

// Dispatches by method and path: 404 for unknown paths, 405 (with Allow) for a known path and
// the wrong method.
Response route(ServerContext& ctx, const Request& req);

// 503 with Retry-After for storage that is busy or unreachable, 500 otherwise.
Response storage_failure(ServerContext& ctx, const Status& status);

}  // namespace dollhouse::server
