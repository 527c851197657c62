// status: consent, kill switch, categories, queue and counters; the same object as
// `dollhousectl telemetry status --json`.
#include "daemon/commands/command_table.hpp"
#include "daemon/daemon.hpp"
#include "daemon/settings.hpp"

namespace dollhouse::daemon {

using nlohmann::json;

void handle_status(Daemon& daemon, const std::shared_ptr<Session>& session,
                   const ipc::Request& req) {
  json base = daemon.status_base();
  daemon.query(session, req.id, [base](StorageContext& ctx) -> Result<json> {
    auto stats = ctx.store.stats();
    if (!stats) return stats.status();
    json status = base;
    json dropped = json::object();
    json protocol = json::object();
    json other = json::object();
    auto strip = [](const std::string& name, std::size_t prefix) { return name.substr(prefix); };
    for (const auto& [name, value] : ctx.counters) {
      if (name.rfind("dropped.", 0) == 0) {
        dropped[strip(name, 8)] = value;
      } else if (name.rfind("protocol.", 0) == 0) {
        protocol[strip(name, 9)] = value;
      } else {
        other[name] = value;
      }
    }
    std::int64_t dropped_total = 0;
    for (const auto& [name, value] : dropped.items()) dropped_total += value.get<std::int64_t>();
    status["queue"] = {{"pending", stats->pending},
                       {"sent", stats->sent},
                       {"stored", stats->pending + stats->sent},
                       {"bytes", stats->bytes},
                       {"dropped", dropped},
                       {"droppedTotal", dropped_total}};
    auto deletions = ctx.store.pending_deletions();
    auto last_deletion = ctx.store.get_value("last_remote_deletion");
    status["remoteDeletion"] = {
        {"pending", deletions ? static_cast<std::int64_t>(deletions->size()) : 0},
        {"lastCompleted",
         last_deletion && last_deletion->has_value() ? json(**last_deletion) : json()}};
    status["upload"]["pendingBatches"] = (stats->pending + kBatchMaxEvents - 1) / kBatchMaxEvents;
    status["protocolErrors"] = protocol;
    status["counters"] = other;
    return status;
  });
}

}  // namespace dollhouse::daemon
