// delete: `local` removes every event and usage total held on this machine; `remote` queues a
// durable request that the server delete everything it holds under this installation's id
// (sent before any upload, retried until acknowledged, even with telemetry off), drops the
// unsent events that carry that id, and rotates the installId; `all` does both.
#include <spdlog/spdlog.h>

#include "daemon/commands/command_table.hpp"
#include "daemon/counters.hpp"

namespace dollhouse::daemon {

using nlohmann::json;

void handle_delete(CommandContext& ctx, const std::shared_ptr<Connection>& connection,
                   const ipc::Request& req) {
  auto it = req.body.find("scope");
  std::string scope = it != req.body.end() && it->is_string() ? it->get<std::string>() : "";
  if (scope != "local" && scope != "remote" && scope != "all") {
    connection->reply_error(req.id, ipc::ErrorCode::kInvalidRequest,
                            "delete needs \"scope\": local, remote or all");
    return;
  }
  bool local = scope == "local" || scope == "all";
  bool remote = scope == "remote" || scope == "all";
  std::string old_id = ctx.consent.config().install_id;
  bool queue_remote = remote && !old_id.empty();
  if (queue_remote) {
    if (Status st = ctx.consent.rotate_install_id(); !st) {
      connection->reply_error(req.id, ipc::ErrorCode::kIoError,
                              "could not save the new installId: " + st.message());
      return;
    }
  }
  std::int64_t now_ms = to_unix_millis(ctx.clock.now());
  ConsentState& consent = ctx.consent;
  Uploader& uploader = ctx.uploader;
  StorageChannel& storage = ctx.storage;
  storage.query(connection, req.id,
                [=, &consent, &uploader, &storage](StorageContext& sc) -> Result<json> {
                  json reply = {{"scope", scope}};
                  std::int64_t deleted = 0;
                  if (local) {
                    auto n = sc.store.delete_all();
                    if (!n) return n.status();
                    if (Status st = sc.store.delete_all_usage(); !st) return st;
                    deleted = *n;
                  }
                  if (queue_remote) {
                    if (Status st = sc.store.add_deletion(old_id, now_ms); !st) return st;
                    // Unsent events carry the old id; sending them would recreate what is being
                    // deleted.
                    auto n = sc.store.delete_unsent(std::nullopt);
                    if (!n) return n.status();
                    sc.count(counter::dropped(ipc::DropReason::kDeletedRemote), *n);
                    if (!local) deleted = *n;
                    storage.after_commit(sc, [&consent, &uploader, old_id](const Status& st) {
                      if (!st) {
                        // The request is not stored: keep the old id, so asking again deletes its
                        // data.
                        (void)consent.restore_install_id(old_id);
                      } else {
                        uploader.on_deletion_queued();
                      }
                    });
                  }
                  reply["deleted"] = deleted;
                  if (remote)
                    reply["remoteDeletion"] = queue_remote ? "pending" : "nothing_to_delete";
                  return reply;
                });
  spdlog::info("telemetry data deletion requested (scope {})", scope);
}

}  // namespace dollhouse::daemon
