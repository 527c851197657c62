// export: everything the daemon holds locally, as one JSON document.
#include "daemon/commands/command_table.hpp"
#include "daemon/commands/log_entry.hpp"
#include "daemon/daemon.hpp"

namespace dollhouse::daemon {

using nlohmann::json;

void handle_export(Daemon& daemon, const std::shared_ptr<Session>& session,
                   const ipc::Request& req) {
  json header = {{"exportedAt", format_iso8601(daemon.now())},
                 {"daemonVersion", DOLLHOUSE_VERSION},
                 {"config", to_json(daemon.config())}};
  daemon.query(session, req.id, [header](StorageContext& ctx) -> Result<json> {
    auto events = ctx.store.all();
    if (!events) return events.status();
    auto weeks = ctx.store.usage_weeks();
    if (!weeks) return weeks.status();
    json doc = header;
    json entries = json::array();
    for (const auto& e : *events) entries.push_back(log_entry(e));
    json usage = json::array();
    for (const auto& [key, text] : *weeks) {
      usage.push_back({{"week", key.substr(0, key.find('|'))},
                       {"app", key.substr(key.find('|') + 1)},
                       {"totals", json::parse(text, nullptr, false)}});
    }
    doc["events"] = std::move(entries);
    doc["usageInProgress"] = std::move(usage);
    doc["counters"] = ctx.counters;
    return json{{"export", doc}};
  });
}

}  // namespace dollhouse::daemon
