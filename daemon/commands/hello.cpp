// hello: names the connection's app. Required before track and usage, since the daemon stamps
// the app's version and runtime on its events. An app may add "setup": its installation or
// update events from before the user answered (daemon/apps.hpp says what happens to them).
#include "daemon/commands/choices.hpp"
#include "daemon/commands/command_table.hpp"
#include "daemon/crash_records.hpp"
#include "daemon/settings.hpp"

namespace dollhouse::daemon {

namespace {

// What to do with the setup reports of a hello: each valid one is stored now (collection on),
// held until the user answers (not answered yet, or consent void since the policy changed), or
// not collected (declined, withdrawn, a kill switch, the app or its category off).
nlohmann::json take_setup(CommandContext& ctx, const AppInfo& app, const nlohmann::json& list) {
  nlohmann::json outcomes = nlohmann::json::object();
  std::vector<SetupReport> reports;
  for (const auto& item : list) {
    privacy::Outcome checked = privacy::process_app_event(item, ctx.scrubber);
    const std::string type = checked.ok ? checked.event.value("eventType", "") : "";
    if (type != "installation" && type != "update") {
      outcomes["invalid"] = checked.ok ? "only installation and update events are setup reports"
                                       : checked.rejection.message;
      continue;
    }
    reports.push_back({setup_key(checked.event), std::move(checked.event), app, ctx.clock.now()});
  }
  const auto blocker = ctx.consent.blocker();
  const auto answer = ctx.consent.config().answer;
  const bool waiting =
      blocker == ipc::Blocker::kPolicyOutdated ||
      (blocker == ipc::Blocker::kNoConsent && answer == ipc::ConsentAnswer::kNotAnswered);
  if (!blocker) {
    for (auto& [key, outcome] : store_setup_reports(ctx, std::move(reports))) {
      outcomes[key] = outcome;
    }
  } else {
    for (auto& r : reports) {
      std::string key = r.key;
      outcomes[key] = waiting && ctx.apps.hold(std::move(r)) ? "pending" : "not_collected";
    }
  }
  return outcomes;
}

}  // namespace

void handle_hello(CommandContext& ctx, const std::shared_ptr<Connection>& connection,
                  const ipc::Request& req) {
  const auto& b = req.body;
  auto str = [&](const char* key) -> std::optional<std::string> {
    auto it = b.find(key);
    if (it == b.end() || it->is_null()) return std::string();
    if (!it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  auto app = str("app");
  auto app_version = str("appVersion");
  auto node_version = str("nodeVersion");
  auto mcp_client = str("mcpClient");
  if (!app || !is_app_name(*app)) {
    connection->reply_error(
        req.id, ipc::ErrorCode::kInvalidRequest,
        "hello needs \"app\": a name of letters, digits and -_.@/ (at most 64)");
    return;
  }
  auto version = app_version ? privacy::cut_to_major_minor(*app_version) : std::nullopt;
  if (!app_version || app_version->empty() || app_version->size() > privacy::kMaxVersionLength ||
      !version) {
    connection->reply_error(req.id, ipc::ErrorCode::kInvalidRequest,
                            "hello needs \"appVersion\", a version such as \"1.9.16\"");
    return;
  }
  if (!node_version || !mcp_client) {
    connection->reply_error(req.id, ipc::ErrorCode::kInvalidRequest,
                            "nodeVersion and mcpClient must be strings when given");
    return;
  }
  AppInfo info;
  info.known = true;
  info.app = *app;
  info.app_version = *app_version;
  if (!node_version->empty()) {
    info.node_version = privacy::cut_to_major_minor(*node_version).value_or("");
  }
  info.mcp_client = privacy::normalize_mcp_client(*mcp_client);
  nlohmann::json setup;
  if (auto it = b.find(ipc::field::kSetup); it != b.end() && !it->is_null()) {
    if (!it->is_array() || it->size() > kMaxSetupReportsPerApp) {
      connection->reply_error(req.id, ipc::ErrorCode::kInvalidRequest,
                              "setup must be an array of at most " +
                                  std::to_string(kMaxSetupReportsPerApp) +
                                  " installation or update events");
      return;
    }
    ctx.apps.saw(info, ctx.clock.now());
    setup = take_setup(ctx, info, *it);
  } else {
    ctx.apps.saw(info, ctx.clock.now());
  }
  const std::string app_name = info.app;
  connection->app = std::move(info);
  nlohmann::json reply = {{"protocol", ipc::kProtocolVersion},
                          {"daemonVersion", ctx.facts.version},
                          {"consent", ctx.consent.summary()}};
  if (!setup.is_null()) reply[ipc::field::kSetup] = std::move(setup);
  connection->reply_ok(req.id, std::move(reply));
  // What this app's crash handler left since the daemon last looked.
  scan_crash_records(ctx, app_name);
}

}  // namespace dollhouse::daemon
