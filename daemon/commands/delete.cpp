// delete: scope local removes every event and usage total held on this machine. Remote
// deletion needs the uploader; until it exists the daemon says so and deletes nothing.
#include "daemon/commands/command_table.hpp"
#include "daemon/daemon.hpp"

#include <spdlog/spdlog.h>

namespace dollhouse::daemon {

using nlohmann::json;

void handle_delete(Daemon& daemon, const std::shared_ptr<Session>& session,
                   const ipc::Request& req) {
  auto it = req.body.find("scope");
  std::string scope = it != req.body.end() && it->is_string() ? it->get<std::string>() : "";
  if (scope != "local" && scope != "remote" && scope != "all") {
    session->reply_error(req.id, ipc::errc::kInvalidRequest,
                         "delete needs \"scope\": local, remote or all");
    return;
  }
  if (scope != "local") {
    session->reply_error(req.id, ipc::errc::kNotConfigured,
                         "remote deletion is not available in this version: nothing has been "
                         "uploaded from this machine; use scope local to delete local data");
    return;
  }
  daemon.query(session, req.id, [](StorageContext& ctx) -> Result<json> {
    auto n = ctx.store.delete_all();
    if (!n) return n.status();
    if (Status st = ctx.store.delete_all_usage(); !st) return st;
    return json{{"deleted", *n}, {"scope", "local"}};
  });
  spdlog::info("local telemetry data deleted on request");
}

}  // namespace dollhouse::daemon
