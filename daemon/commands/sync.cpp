// sync: replies once every earlier message on this connection is durable or was dropped, with
// exactly what was kept: the storage thread runs tasks in order, so this read runs after the
// connection's earlier writes were committed (or failed), and their outcomes reached the
// connection's counts before this reply is built.
#include "daemon/commands/command_table.hpp"

namespace dollhouse::daemon {

void handle_sync(CommandContext& ctx, const std::shared_ptr<Connection>& connection,
                 const ipc::Request& req) {
  connection->begin_storage_request();
  StorageChannel& storage = ctx.storage;
  nlohmann::json id = req.id;
  storage.post_read([&storage, connection, id](StorageContext& sc) {
    storage.after_commit(sc, [connection, id](const Status&) {
      EndStorageRequestOnExit ending(*connection);
      connection->reply_ok(id,
                           {{"accepted", connection->accepted}, {"dropped", connection->dropped}});
    });
  });
}

}  // namespace dollhouse::daemon
