// flush: upload now, and reply with what was sent once the attempt is over.
#include "daemon/commands/command_table.hpp"

namespace dollhouse::daemon {

void handle_flush(CommandContext& ctx, const std::shared_ptr<Connection>& connection,
                  const ipc::Request& req) {
  if (!ctx.uploader.configured()) {
    connection->reply_error(req.id, ipc::ErrorCode::kNotConfigured,
                            "uploading is not configured: " + ctx.uploader.config_error() +
                                "; events stay in the local queue");
    return;
  }
  connection->begin_storage_request();
  nlohmann::json id = req.id;
  ctx.uploader.flush_now([connection, id](nlohmann::json outcome) {
    EndStorageRequestOnExit ending(*connection);
    connection->reply_ok(id, {{"flush", std::move(outcome)}});
  });
}

}  // namespace dollhouse::daemon
