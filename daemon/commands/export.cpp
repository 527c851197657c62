// export: everything the daemon holds locally, as one JSON document.
#include "daemon/commands/command_table.hpp"
#include "daemon/commands/log_entry.hpp"
#include "daemon/usage_rollup.hpp"

namespace dollhouse::daemon {

using nlohmann::json;

void handle_export(CommandContext& ctx, const std::shared_ptr<Connection>& connection,
                   const ipc::Request& req) {
  json header = {{"exportedAt", format_iso8601(ctx.clock.now())},
                 {"daemonVersion", ctx.facts.version},
                 {"config", to_json(ctx.consent.config())}};
  ctx.storage.read_query(connection, req.id, [header](StorageContext& sc) -> Result<json> {
    auto events = sc.store.all();
    if (!events) return events.status();
    auto weeks = sc.store.usage_weeks();
    if (!weeks) return weeks.status();
    json doc = header;
    json entries = json::array();
    for (const auto& e : *events) entries.push_back(log_entry(e));
    json usage = json::array();
    for (const auto& [key, text] : *weeks) {
      usage.push_back({{"week", key.week_start},
                       {"app", key.app},
                       {"totals", usage_totals_for_people(json::parse(text, nullptr, false))}});
    }
    doc["events"] = std::move(entries);
    doc["usageInProgress"] = std::move(usage);
    doc["counters"] = sc.counters;
    return json{{"export", doc}};
  });
}

}  // namespace dollhouse::daemon
