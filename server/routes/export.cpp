// GET /api/v1/export?dataset=NAME&format=csv|json&from=…&to=…&app=…
//
// One dataset's daily counters, one row per (date, app, metric, dimension): the same numbers
// the stats API adds up, with nothing more in them (no installId, no text below the k
// threshold). CSV follows RFC 4180 (header row, CRLF, fields with a comma, quote or line break
// quoted, quotes doubled); text that a spreadsheet would run as a formula (starting with = + -
// @ or a tab) gets a leading apostrophe. docs/server.md lists the datasets and their metrics.
#include <array>
#include <string_view>

#include "server/routes/routes.hpp"
#include "server/routes/stats_query.hpp"

namespace dollhouse::server {

namespace {

using nlohmann::json;

struct Dataset {
  std::string_view name;
  std::array<std::string_view, 5> metrics;  // a metric, with every "metric.sub"; "" unused
};

constexpr Dataset kDatasets[] = {
    {"installations", {"installations"}},
    {"platforms", {"installations", "active"}},
    {"errors", {"errors"}},
    {"updates", {"updates"}},
    {"usage", {"usage"}},
    {"crashes", {"activity", "signatures", "errors.kind", "errors.crash", "errors.error"}},
    {"activity", {"activity", "weekly", "perf"}},
    {"ingest", {"events", "rejected"}},
};

bool in_dataset(const Dataset& d, const std::string& metric) {
  for (std::string_view m : d.metrics) {
    if (m.empty()) continue;
    if (metric == m || (metric.size() > m.size() && metric.compare(0, m.size(), m) == 0 &&
                        metric[m.size()] == '.')) {
      return true;
    }
  }
  return false;
}

std::string dataset_names() {
  std::string out;
  for (const Dataset& d : kDatasets) out += (out.empty() ? "" : ", ") + std::string(d.name);
  return out;
}

void csv_field(std::string& out, const std::string& text) {
  std::string value = text;
  if (!value.empty() && std::string_view("=+-@\t\r").find(value.front()) != std::string::npos) {
    value.insert(value.begin(), '\'');
  }
  if (value.find_first_of(",\"\r\n") == std::string::npos) {
    out += value;
    return;
  }
  out += '"';
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

}  // namespace

std::string csv_row(const std::vector<std::string>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    csv_field(out, fields[i]);
  }
  out += "\r\n";
  return out;
}

Response handle_export(ServerContext& ctx, const Request& req) {
  if (auto denied = check_stats_access(ctx, req)) return *denied;
  auto name = req.query.find("dataset");
  const Dataset* dataset = nullptr;
  for (const Dataset& d : kDatasets) {
    if (name != req.query.end() && name->second == d.name) dataset = &d;
  }
  if (!dataset) {
    return Response::error(400, "invalid_dataset", "dataset must be one of " + dataset_names());
  }
  auto format_it = req.query.find("format");
  const std::string format = format_it == req.query.end() ? "csv" : format_it->second;
  if (format != "csv" && format != "json") {
    return Response::error(400, "invalid_format", "format must be csv or json");
  }
  StatsQuery query;
  if (auto bad = parse_stats_query(ctx, req, query)) return *bad;
  auto rows = load_rows(ctx, query.from(), query.to());
  if (!rows) return storage_failure(ctx, rows.status());

  const std::string file = "dollhouse-" + std::string(dataset->name) + "-" + query.from() + "-" +
                           query.to() + "." + format;
  Response r;
  json out_rows = json::array();
  std::string csv = csv_row({"date", "app", "metric", "dimension", "value"});
  for (const auto& [key, value] : *rows) {
    if (!query.app.empty() && key.app != query.app) continue;
    if (!in_dataset(*dataset, key.metric)) continue;
    // Exact, so that adding exported rows up gives the API's figures.
    const json number = exact_number(value);
    if (format == "json") {
      out_rows.push_back({{"date", key.day},
                          {"app", key.app},
                          {"metric", key.metric},
                          {"dimension", key.dim},
                          {"value", number}});
    } else {
      csv += csv_row({key.day, key.app, key.metric, key.dim, number.dump()});
    }
  }
  if (format == "json") {
    r = Response::json(200, {{"dataset", dataset->name},
                             {"from", query.from()},
                             {"to", query.to()},
                             {"app", query.app.empty() ? json(nullptr) : json(query.app)},
                             {"rows", out_rows}});
  } else {
    r.content_type = "text/csv; charset=utf-8; header=present";
    r.body = std::move(csv);
  }
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + file + "\"");
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace dollhouse::server
