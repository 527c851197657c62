// status: consent, kill switch, categories, queue and counters; the same object as
// `dollhousectl telemetry status --json` (daemon/status_report.hpp builds it).
#include "daemon/commands/command_table.hpp"

namespace dollhouse::daemon {

void handle_status(CommandContext& ctx, const std::shared_ptr<Connection>& connection,
                   const ipc::Request& req) {
  nlohmann::json base =
      status_base(ctx.consent, ctx.apps, ctx.uploader.status_json(), ctx.facts, ctx.connections);
  ctx.storage.read_query(connection, req.id, [base](StorageContext& sc) -> Result<nlohmann::json> {
    return complete_status(base, sc);
  });
}

}  // namespace dollhouse::daemon
