// delete: `local` removes every event and usage total held on this machine; `remote` queues a
// durable request that the server delete everything it holds under this installation's id
// (sent before any upload, retried until acknowledged, even with telemetry off), drops the
// unsent events that carry that id, and rotates the installId; `all` does both.
//
// A local deletion holds at once, also on a full disk: from this request on, nothing it covers
// is shown, exported or uploaded (SqliteEventStore::delete_local_log). When the disk refuses
// the write, the reply says so (`persistPending`, `warning`) and the deletion reaches the disk
// with the next write that succeeds; maintenance tries every kPersistRetryInterval.
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
  Maintenance& maintenance = ctx.maintenance;
  const json id = req.id;
  connection->begin_storage_request();
  storage.post([=, &consent, &uploader, &storage, &maintenance](StorageContext& sc) {
    json reply = {{"scope", scope}};
    std::int64_t deleted = 0;
    // A step that failed before the commit: the reply is its error, whatever the commit does.
    Status problem;
    if (local) {
      auto n = sc.store.delete_local_log();
      if (n) {
        deleted = *n;
      } else {
        problem = n.status();
      }
    }
    if (queue_remote && problem.is_ok()) {
      if (Status st = sc.store.add_deletion(old_id, now_ms); !st) {
        problem = st;
      } else {
        // Unsent events carry the old id; sending them would recreate what is being deleted.
        auto n = sc.store.delete_unsent(std::nullopt);
        if (!n) {
          problem = n.status();
        } else {
          sc.count(counter::dropped(ipc::DropReason::kDeletedRemote), *n);
          if (!local) deleted = *n;
        }
      }
    }
    reply["deleted"] = deleted;
    if (remote) reply["remoteDeletion"] = queue_remote ? "pending" : "nothing_to_delete";
    const bool local_held = local && problem.is_ok() && sc.store.local_deletion_pending();
    storage.after_commit(sc, [=, &consent, &uploader, &maintenance](const Status& commit) {
      EndStorageRequestOnExit ending(*connection);
      if (queue_remote) {
        if (!commit || !problem) {
          // The request is not stored: keep the old id, so asking again deletes its data.
          (void)consent.restore_install_id(old_id);
        } else {
          uploader.on_deletion_queued();
        }
      }
      if (!commit && local_held) maintenance.retry_soon();
      if (!problem) {
        connection->reply_error(
            id, ipc::parse_error_code(problem.code()).value_or(ipc::ErrorCode::kStorageError),
            problem.message());
        return;
      }
      if (!commit && !(local_held && !queue_remote)) {
        // A remote deletion request must be on disk before it counts; the local deletion, if
        // any, holds all the same.
        connection->reply_error(id, ipc::ErrorCode::kStorageError,
                                "the daemon could not write its database: " + commit.message() +
                                    (local_held ? "; the local deletion holds and is written "
                                                  "as soon as the disk allows"
                                                : ""));
        return;
      }
      json out = reply;
      if (!commit) {
        // Only the local deletion, held in memory: in effect now, on disk later.
        out["persistPending"] = true;
        out["warning"] = "the database is not writable now (" + commit.message() +
                         "); the deleted events are gone from show, export and uploads now and "
                         "are removed from the disk as soon as it allows";
      }
      connection->reply_ok(id, std::move(out));
    });
  });
  spdlog::info("telemetry data deletion requested (scope {})", scope);
}

}  // namespace dollhouse::daemon
