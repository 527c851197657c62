// sync: replies once every earlier message on this connection is durable or was dropped. The
// storage thread runs tasks in order, so the query below completes after the connection's
// earlier events are committed.
#include "daemon/commands/command_table.hpp"
#include "daemon/daemon.hpp"

namespace dollhouse::daemon {

void handle_sync(Daemon& daemon, const std::shared_ptr<Session>& session, const ipc::Request& req) {
  nlohmann::json counts = {{"accepted", session->accepted}, {"dropped", session->dropped}};
  daemon.query(session, req.id,
               [counts](StorageContext&) -> Result<nlohmann::json> { return counts; });
}

}  // namespace dollhouse::daemon
