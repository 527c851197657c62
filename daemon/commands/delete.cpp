// delete: `local` removes every event and usage total held on this machine; `remote` queues a
// durable request that the server delete everything it holds under this installation's id
// (sent before any upload, retried until acknowledged, even with telemetry off), drops the
// unsent events that carry that id, and rotates the installId; `all` does both.
#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "daemon/commands/command_table.hpp"
#include "daemon/daemon.hpp"

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
  bool local = scope == "local" || scope == "all";
  bool remote = scope == "remote" || scope == "all";
  std::string old_id = daemon.config().install_id;
  bool queue_remote = remote && !old_id.empty();
  if (queue_remote) {
    if (Status st = daemon.rotate_install_id(); !st) {
      session->reply_error(req.id, "io_error", "could not save the new installId: " + st.message());
      return;
    }
  }
  std::int64_t now_ms = to_unix_millis(daemon.now());
  Uploader* uploader = daemon.uploader();
  daemon.query(session, req.id, [=, &daemon](StorageContext& ctx) -> Result<json> {
    json reply = {{"scope", scope}};
    std::int64_t deleted = 0;
    if (local) {
      auto n = ctx.store.delete_all();
      if (!n) return n.status();
      if (Status st = ctx.store.delete_all_usage(); !st) return st;
      deleted = *n;
    }
    if (queue_remote) {
      if (Status st = ctx.store.add_deletion(old_id, now_ms); !st) return st;
      // Unsent events carry the old id; sending them would recreate what is being deleted.
      auto n = ctx.store.delete_unsent(std::nullopt);
      if (!n) return n.status();
      ctx.count("dropped.deleted_remote", *n);
      if (!local) deleted = *n;
      ctx.on_commit.push_back([uploader, &daemon, old_id](const Status& st) {
        boost::asio::post(daemon.io(), [st, uploader, &daemon, old_id] {
          if (!st) {
            // The request is not stored: keep the old id, so asking again deletes its data.
            (void)daemon.restore_install_id(old_id);
          } else if (uploader != nullptr) {
            uploader->on_deletion_queued();
          }
        });
      });
    }
    reply["deleted"] = deleted;
    if (remote) reply["remoteDeletion"] = queue_remote ? "pending" : "nothing_to_delete";
    return reply;
  });
  spdlog::info("telemetry data deletion requested (scope {})", scope);
}

}  // namespace dollhouse::daemon
