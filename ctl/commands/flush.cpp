// dollhousectl telemetry flush
#include <iostream>

#include "ctl/commands/commands.hpp"

namespace dollhouse::ctl {

namespace {

int flush(DaemonClient& client) {
  auto reply = client.request("flush", nlohmann::json::object(), std::chrono::seconds(120));
  if (!reply) return report_failure(reply.status());
  if (!reply->value("ok", false)) return report_error_reply(*reply);
  reply->erase("id");
  reply->erase("ok");
  std::cout << reply->dump(2) << "\n";
  return kExitOk;
}

}  // namespace

void add_flush_command(CLI::App& parent, GlobalOptions& global, Action& run) {
  auto* cmd = parent.add_subcommand("flush", "Upload queued events now");
  cmd->add_flag("--json", global.json, "Print the outcome as JSON");
  cmd->callback([&run] { run = flush; });
}

}  // namespace dollhouse::ctl
