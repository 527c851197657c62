// show: the local log, newest first, as the seed's TelemetryLog entries, with how many match in
// all and the consent summary (so an empty log can be explained).
#include "daemon/commands/command_table.hpp"
#include "daemon/commands/log_entry.hpp"
#include "daemon/settings.hpp"

namespace dollhouse::daemon {

using nlohmann::json;

json log_entry(const StoredEvent& e) {
  return {{"timestamp", format_iso8601(from_unix_millis(e.created_ms))},
          {"eventType", e.event_type},
          {"data", json::parse(e.body, nullptr, false)},
          {"sentToServer", e.sent}};
}

void handle_show(CommandContext& ctx, const std::shared_ptr<Connection>& connection,
                 const ipc::Request& req) {
  std::int64_t limit = kDefaultShowLimit;
  std::optional<std::int64_t> since;
  if (auto it = req.body.find("limit"); it != req.body.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 1) {
      connection->reply_error(req.id, ipc::ErrorCode::kInvalidRequest,
                              "limit must be a positive integer");
      return;
    }
    limit = std::min(it->get<std::int64_t>(), kMaxShowLimit);
  }
  if (auto it = req.body.find("since"); it != req.body.end() && !it->is_null()) {
    SystemTime t;
    if (!it->is_string() || !parse_iso8601(it->get<std::string>(), t)) {
      connection->reply_error(req.id, ipc::ErrorCode::kInvalidRequest,
                              "since must be a UTC timestamp such as 2026-11-01T00:00:00Z");
      return;
    }
    since = to_unix_millis(t);
  }
  json consent = ctx.consent.summary();
  ctx.storage.read_query(
      connection, req.id, [limit, since, consent](StorageContext& sc) -> Result<json> {
        auto events = sc.store.newest(limit, since);
        if (!events) return events.status();
        auto total = sc.store.count_since(since);
        if (!total) return total.status();
        json entries = json::array();
        for (const auto& e : *events) entries.push_back(log_entry(e));
        // total: how many match, so a reader knows when there are more.
        return json{{"entries", entries}, {"total", *total}, {"consent", consent}};
      });
}

}  // namespace dollhouse::daemon
