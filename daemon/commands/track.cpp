// track: one event from an app. Consent is checked before the content is looked at; then the
// privacy engine validates and scrubs it, the daemon stamps its own fields, and the storage
// thread appends it in the next group commit.
#include "daemon/commands/command_table.hpp"
#include "daemon/daemon.hpp"

namespace dollhouse::daemon {

void handle_track(Daemon& daemon, const std::shared_ptr<Session>& session,
                  const ipc::Request& req) {
  auto drop = [&](const std::string& reason) { daemon.count_drop(*session, reason); };
  if (!daemon.require_hello(*session, req)) return;
  auto event = req.body.find("event");
  if (event == req.body.end() || !event->is_object()) {
    drop("invalid_event");
    session->reply_error(req.id, ipc::errc::kInvalidEvent, "track needs \"event\": an object",
                         false, {{"path", "/event"}, {"expected", "object"}});
    return;
  }
  auto type = event->find("eventType");
  std::string category = type != event->end() && type->is_string()
                             ? privacy::category_of(type->get_ref<const std::string&>())
                             : std::string();
  // Unknown types fall through to validation, which names the problem.
  if (!category.empty()) {
    if (std::string reason = daemon.drop_reason_for(category); !reason.empty()) {
      drop(reason);
      session->reply_ok(req.id, {{"accepted", false}, {"reason", reason}}, false);
      return;
    }
  } else if (std::string reason = daemon.drop_reason_for("installation");
             !reason.empty() && reason != "category_off") {
    drop(reason);
    session->reply_ok(req.id, {{"accepted", false}, {"reason", reason}}, false);
    return;
  }
  privacy::Outcome outcome = privacy::process_app_event(*event, daemon.scrubber());
  if (!outcome.ok) {
    drop(outcome.rejection.code);
    session->reply_error(
        req.id, outcome.rejection.code, outcome.rejection.message, false,
        {{"path", outcome.rejection.path}, {"expected", outcome.rejection.expected}});
    return;
  }
  if (outcome.dropped_fields > 0) {
    daemon.count("fields.dropped_unknown", static_cast<std::int64_t>(outcome.dropped_fields));
  }
  std::string event_type = outcome.event["eventType"].get<std::string>();
  nlohmann::json stamped = daemon.stamp(std::move(outcome.event), session->app);
  std::int64_t created_ms = to_unix_millis(daemon.now());
  daemon.post_storage([created_ms, event_type, body = stamped.dump()](StorageContext& ctx) {
    if (Status st = ctx.store.append(created_ms, event_type, body); st) {
      ctx.appended = true;
      ctx.count("accepted");
    } else {
      ctx.count("dropped.storage_error");
    }
  });
  ++session->accepted;
  daemon.note_events_stored(1);
  session->reply_ok(req.id, {{"accepted", true}}, false);
}

}  // namespace dollhouse::daemon
