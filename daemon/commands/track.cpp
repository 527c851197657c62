// track: one event from an app. Consent is checked before the content is looked at; then the
// privacy engine validates and scrubs it, the daemon stamps its own fields, and the storage
// thread appends it in the next group commit.
#include "daemon/commands/command_table.hpp"
#include "daemon/counters.hpp"
#include "daemon/event_stamp.hpp"

namespace dollhouse::daemon {

using ipc::DropReason;

void handle_track(CommandContext& ctx, const std::shared_ptr<Connection>& connection,
                  const ipc::Request& req) {
  auto drop = [&](DropReason reason) { count_drop(ctx, *connection, reason); };
  auto refuse = [&](DropReason reason) {
    drop(reason);
    connection->reply_ok(req.id, {{"accepted", false}, {"reason", reason}}, false);
  };
  if (!require_hello(ctx, *connection, req)) return;
  auto event = req.body.find("event");
  if (event == req.body.end() || !event->is_object()) {
    drop(DropReason::kInvalidEvent);
    connection->reply_error(req.id, ipc::ErrorCode::kInvalidEvent,
                            "track needs \"event\": an object", false,
                            {{"path", "/event"}, {"expected", "object"}});
    return;
  }
  auto type = event->find("eventType");
  std::string category = type != event->end() && type->is_string()
                             ? privacy::category_of(type->get_ref<const std::string&>())
                             : std::string();
  if (!category.empty()) {
    if (auto reason = ctx.consent.drop_reason_for(category, connection->app.app)) {
      return refuse(*reason);
    }
  } else if (auto blocker = ctx.consent.blocker()) {
    // An unknown type is refused for what blocks everything; otherwise validation names the
    // problem.
    return refuse(ipc::drop_reason_of(*blocker));
  }
  privacy::Outcome outcome = privacy::process_app_event(*event, ctx.scrubber);
  if (!outcome.ok) {
    const bool pii = outcome.rejection.code == privacy::RejectionCode::kPiiDetected;
    drop(pii ? DropReason::kPiiDetected : DropReason::kInvalidEvent);
    connection->reply_error(
        req.id, pii ? ipc::ErrorCode::kPiiDetected : ipc::ErrorCode::kInvalidEvent,
        outcome.rejection.message, false,
        {{"path", outcome.rejection.path}, {"expected", outcome.rejection.expected}});
    return;
  }
  if (outcome.dropped_fields > 0) {
    ctx.storage.count(counter::kFieldsDroppedUnknown,
                      static_cast<std::int64_t>(outcome.dropped_fields));
  }
  std::string event_type = outcome.event["eventType"].get<std::string>();
  const SystemTime now = ctx.clock.now();
  nlohmann::json stamped = stamp_event(std::move(outcome.event), connection->app, ctx.platform,
                                       ctx.consent.config().install_id, now);
  // Counted as accepted (for sync) and answered only once the event is on disk. A reply owed
  // keeps the connection open until then; a fire-and-forget event does not hold it.
  StorageChannel& storage = ctx.storage;
  Uploader& uploader = ctx.uploader;
  nlohmann::json id = req.id;
  if (!id.is_null()) connection->begin_storage_request();
  AppRegistry& apps = ctx.apps;
  storage.post([&storage, &uploader, &apps, connection, id, created_ms = to_unix_millis(now),
                event_type, app = connection->app.app, body = stamped.dump()](StorageContext& sc) {
    const bool appended = sc.store.append(created_ms, event_type, app, body).is_ok();
    if (appended) {
      sc.appended = true;
      sc.count(counter::kAccepted);
    } else {
      sc.count(counter::dropped(DropReason::kStorageError));
    }
    storage.after_commit(sc,
                         [&uploader, &apps, connection, id, app, appended](const Status& commit) {
                           if (settle_message(*connection, id, appended, commit, "event")) {
                             uploader.on_events_accepted(1);
                             apps.count_accepted(app);
                           }
                         });
  });
}

}  // namespace dollhouse::daemon
