// dollhousectl telemetry disable [--app NAME]
#include <iostream>

#include "ctl/commands/commands.hpp"
#include "ipc/reasons.hpp"

namespace dollhouse::ctl {

using nlohmann::json;

namespace {

int disable(DaemonClient& client, const std::string& app) {
  json fields = {{"enabled", false}};
  if (!app.empty()) fields[ipc::field::kApp] = app;
  auto reply = client.request("consent", fields);
  if (!reply) return report_failure(reply.status());
  if (!reply->value("ok", false)) return report_error_reply(*reply);
  if (client.options().json) {
    std::cout << reply->dump(2) << "\n";
    return kExitOk;
  }
  std::int64_t dropped = reply->value(ipc::field::kDroppedUnsent, std::int64_t{0});
  if (app.empty()) {
    std::cout << "Telemetry disabled: nothing more is collected or sent.\n";
  } else {
    std::cout << "Telemetry for " << app
              << " is off: nothing more is collected from it. Other apps are not affected.\n";
  }
  if (reply->contains("warning")) {
    std::cout << "Note: " << (*reply)["warning"].get<std::string>() << "\n";
  }
  if (dropped > 0) {
    std::cout << "Deleted " << dropped << " queued event" << (dropped == 1 ? "" : "s")
              << " that had not been sent.\n";
  }
  std::cout << "Your local log is kept; remove it with: dollhousectl telemetry delete --local\n";
  return kExitOk;
}

}  // namespace

void add_disable_command(CLI::App& parent, GlobalOptions& global, Action& run) {
  auto app = std::make_shared<std::string>();
  auto* cmd =
      parent.add_subcommand("disable", "Withdraw consent; queued unsent events are dropped");
  cmd->add_option("--app", *app, "Turn off one app only; its queued unsent events are dropped");
  cmd->add_flag("--json", global.json, "Print the daemon's reply as JSON");
  cmd->callback([&run, app] { run = [app](DaemonClient& c) { return disable(c, *app); }; });
}

}  // namespace dollhouse::ctl
