// dollhousectl telemetry disable
#include <iostream>

#include "ctl/commands/commands.hpp"
#include "ipc/reasons.hpp"

namespace dollhouse::ctl {

namespace {

int disable(DaemonClient& client) {
  auto reply = client.request("consent", {{"enabled", false}});
  if (!reply) return report_failure(reply.status());
  if (!reply->value("ok", false)) return report_error_reply(*reply);
  if (client.options().json) {
    std::cout << reply->dump(2) << "\n";
    return kExitOk;
  }
  std::int64_t dropped = reply->value(ipc::field::kDroppedUnsent, std::int64_t{0});
  std::cout << "Telemetry disabled: nothing more is collected or sent.\n";
  if (dropped > 0) {
    std::cout << "Deleted " << dropped << " queued event" << (dropped == 1 ? "" : "s")
              << " that had not been sent.\n";
  }
  std::cout << "Your local log is kept; remove it with: dollhousectl telemetry delete --local\n";
  return kExitOk;
}

}  // namespace

void add_disable_command(CLI::App& parent, GlobalOptions& global, Action& run) {
  auto* cmd =
      parent.add_subcommand("disable", "Withdraw consent; queued unsent events are dropped");
  cmd->add_flag("--json", global.json, "Print the daemon's reply as JSON");
  cmd->callback([&run] { run = disable; });
}

}  // namespace dollhouse::ctl
