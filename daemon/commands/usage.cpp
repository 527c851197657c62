// usage: counters and timings folded into this week's rollup for the connection's app.
#include "daemon/commands/command_table.hpp"
#include "daemon/daemon.hpp"
#include "daemon/usage_rollup.hpp"

namespace dollhouse::daemon {

using nlohmann::json;

void handle_usage(Daemon& daemon, const std::shared_ptr<Session>& session,
                  const ipc::Request& req) {
  auto drop = [&](const std::string& reason) { daemon.count_drop(*session, reason); };
  if (!daemon.require_hello(*session, req)) return;
  std::map<std::string, std::int64_t> counters;
  std::map<std::string, double> timings;
  const json& b = req.body;
  if (auto it = b.find("counters"); it != b.end() && !it->is_null()) {
    if (!it->is_object()) {
      drop("invalid_event");
      session->reply_error(req.id, ipc::errc::kInvalidEvent, "counters must be an object", false,
                           {{"path", "/counters"}, {"expected", "object of name -> integer"}});
      return;
    }
    for (const auto& [name, value] : it->items()) {
      if (!value.is_number_integer()) {
        drop("invalid_event");
        session->reply_error(req.id, ipc::errc::kInvalidEvent, "counter values must be integers",
                             false, {{"path", "/counters/" + name}, {"expected", "integer"}});
        return;
      }
      counters[name] = value.get<std::int64_t>();
    }
  }
  if (auto it = b.find("timings"); it != b.end() && !it->is_null()) {
    if (!it->is_object()) {
      drop("invalid_event");
      session->reply_error(req.id, ipc::errc::kInvalidEvent, "timings must be an object", false,
                           {{"path", "/timings"}, {"expected", "object of name -> milliseconds"}});
      return;
    }
    for (const auto& [name, value] : it->items()) {
      if (!value.is_number()) {
        drop("invalid_event");
        session->reply_error(req.id, ipc::errc::kInvalidEvent, "timing values must be numbers",
                             false, {{"path", "/timings/" + name}, {"expected", "number (ms)"}});
        return;
      }
      timings[name] = value.get<double>();
    }
  }
  if (std::string reason = daemon.drop_reason_for("usage"); !reason.empty()) {
    drop(reason);
    session->reply_ok(req.id, {{"accepted", false}, {"reason", reason}}, false);
    return;
  }
  if (!timings.empty() && !daemon.drop_reason_for("performance").empty()) {
    daemon.count("dropped.category_off.performance", static_cast<std::int64_t>(timings.size()));
    timings.clear();
  }
  WeekPosition pos = local_week_position(daemon.now());
  const AppInfo& app = session->app;
  std::string key = pos.week_start + "|" + app.app;
  json app_fields = {{"appVersion", app.app_version}, {"mcpClient", app.mcp_client}};
  if (!app.node_version.empty()) app_fields["nodeVersion"] = app.node_version;
  daemon.post_storage([=](StorageContext& ctx) {
    auto weeks = ctx.store.usage_weeks();
    if (!weeks) return;
    UsageWeek week;
    if (auto it = weeks->find(key); it != weeks->end()) {
      week = usage_week_from_json(json::parse(it->second, nullptr, false));
    }
    std::size_t skipped = fold_usage(week, pos.day_index, counters, timings);
    ctx.count("fields.dropped_unknown", static_cast<std::int64_t>(skipped));
    json data = usage_week_to_json(week);
    for (const auto& [k, v] : app_fields.items()) data[k] = v;
    if (Status st = ctx.store.put_usage_week(key, data.dump()); !st) {
      ctx.count("dropped.storage_error");
    }
  });
  ++session->accepted;
  session->reply_ok(req.id, {{"accepted", true}}, false);
}

}  // namespace dollhouse::daemon
