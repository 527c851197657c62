// sync: replies once every earlier message on this connection is durable or was dropped. The
// storage thread runs tasks in order, so the query below completes after the connection's
// earlier events are committed.
#include "daemon/commands/command_table.hpp"

namespace dollhouse::daemon {

void handle_sync(CommandContext& ctx, const std::shared_ptr<Connection>& connection,
                 const ipc::Request& req) {
  nlohmann::json counts = {{"accepted", connection->accepted}, {"dropped", connection->dropped}};
  ctx.storage.query(connection, req.id,
                    [counts](StorageContext&) -> Result<nlohmann::json> { return counts; });
}

}  // namespace dollhouse::daemon
