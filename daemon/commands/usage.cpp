// usage: counters and timings folded into this week's rollup for the connection's app.
#include "daemon/commands/command_table.hpp"
#include "daemon/counters.hpp"
#include "daemon/usage_rollup.hpp"

namespace dollhouse::daemon {

using ipc::DropReason;
using nlohmann::json;

void handle_usage(CommandContext& ctx, const std::shared_ptr<Connection>& connection,
                  const ipc::Request& req) {
  auto invalid = [&](const std::string& message, const std::string& path, const char* expected) {
    count_drop(ctx, *connection, DropReason::kInvalidEvent);
    connection->reply_error(req.id, ipc::ErrorCode::kInvalidEvent, message, false,
                            {{"path", path}, {"expected", expected}});
  };
  if (!require_hello(ctx, *connection, req)) return;
  std::map<std::string, std::int64_t> counters;
  std::map<std::string, double> timings;
  const json& b = req.body;
  if (auto it = b.find("counters"); it != b.end() && !it->is_null()) {
    if (!it->is_object()) {
      return invalid("counters must be an object", "/counters", "object of name -> integer");
    }
    for (const auto& [name, value] : it->items()) {
      if (!value.is_number_integer()) {
        return invalid("counter values must be integers", "/counters/" + name, "integer");
      }
      counters[name] = value.get<std::int64_t>();
    }
  }
  if (auto it = b.find("timings"); it != b.end() && !it->is_null()) {
    if (!it->is_object()) {
      return invalid("timings must be an object", "/timings", "object of name -> milliseconds");
    }
    for (const auto& [name, value] : it->items()) {
      if (!value.is_number()) {
        return invalid("timing values must be numbers", "/timings/" + name, "number (ms)");
      }
      timings[name] = value.get<double>();
    }
  }
  const std::string& app_name = connection->app.app;
  if (auto reason = ctx.consent.drop_reason_for("usage", app_name)) {
    count_drop(ctx, *connection, *reason);
    connection->reply_ok(req.id, {{"accepted", false}, {"reason", *reason}}, false);
    return;
  }
  if (!timings.empty() && ctx.consent.drop_reason_for("performance", app_name)) {
    ctx.storage.count(counter::dropped(DropReason::kPerformanceOff),
                      static_cast<std::int64_t>(timings.size()));
    timings.clear();
  }
  WeekPosition pos = local_week_position(ctx.clock.now());
  const AppInfo& app = connection->app;
  UsageKey key{pos.week_start, app.app};
  json app_fields = {{"appVersion", app.app_version}, {"mcpClient", app.mcp_client}};
  if (!app.node_version.empty()) app_fields["nodeVersion"] = app.node_version;
  // As with track: counted and answered once the totals are on disk.
  StorageChannel& storage = ctx.storage;
  AppRegistry& apps = ctx.apps;
  nlohmann::json id = req.id;
  if (!id.is_null()) connection->begin_storage_request();
  storage.post([=, &storage, &apps](StorageContext& sc) {
    bool saved = false;
    if (auto stored = sc.store.usage_week(key)) {
      UsageWeek week;
      if (stored->has_value()) week = usage_week_from_json(json::parse(**stored, nullptr, false));
      std::size_t skipped = fold_usage(week, pos.day_index, counters, timings);
      sc.count(counter::kFieldsDroppedUnknown, static_cast<std::int64_t>(skipped));
      json data = usage_week_to_json(week);
      for (const auto& [k, v] : app_fields.items()) data[k] = v;
      saved = sc.store.put_usage_week(key, data.dump()).is_ok();
    }
    if (!saved) sc.count(counter::dropped(DropReason::kStorageError));
    storage.after_commit(sc, [&apps, connection, id, saved](const Status& commit) {
      if (settle_message(*connection, id, saved, commit, "usage totals")) {
        apps.count_accepted(connection->app.app);
      }
    });
  });
}

}  // namespace dollhouse::daemon
