// dollhousectl telemetry delete --local|--remote|--all
#include <iostream>

#include "ctl/commands/commands.hpp"

namespace dollhouse::ctl {

namespace {

int remove(DaemonClient& client, const std::string& scope) {
  auto reply = client.request("delete", {{"scope", scope}});
  if (!reply) return report_failure(reply.status());
  if (!reply->value("ok", false)) return report_error_reply(*reply);
  if (client.options().json) {
    std::cout << reply->dump(2) << "\n";
    return kExitOk;
  }
  std::int64_t n = reply->value("deleted", std::int64_t{0});
  if (scope != "remote") {
    std::cout << "Deleted " << n << " event" << (n == 1 ? "" : "s")
              << " and the usage totals kept on this machine.\n";
  }
  if (reply->contains("warning")) {
    std::cout << "Note: " << (*reply)["warning"].get<std::string>() << "\n";
  }
  std::string remote = reply->value("remoteDeletion", "");
  if (remote == "pending") {
    std::cout << "Asked the server to delete everything it holds for this installation. The "
                 "request is sent before\nany other upload and retried until the server "
                 "confirms; `dollhousectl telemetry status` shows it.\n"
                 "This machine now uses a new installation ID.\n";
    if (scope == "remote" && n > 0) {
      std::cout << "Dropped " << n << " unsent event" << (n == 1 ? "" : "s")
                << " that carried the old ID.\n";
    }
  } else if (remote == "nothing_to_delete") {
    std::cout << "Nothing to delete on the server: this machine never had an installation ID.\n";
  }
  return kExitOk;
}

}  // namespace

void add_delete_command(CLI::App& parent, GlobalOptions& global, Action& run) {
  auto scope = std::make_shared<std::string>();
  auto* cmd = parent.add_subcommand("delete", "Delete telemetry data");
  auto* local = cmd->add_flag_callback(
      "--local", [scope] { *scope = "local"; }, "Delete the local log and queue on this machine");
  auto* remote = cmd->add_flag_callback(
      "--remote", [scope] { *scope = "remote"; },
      "Ask the server to delete this installation's data");
  auto* all = cmd->add_flag_callback(
      "--all", [scope] { *scope = "all"; }, "Both");
  local->excludes(remote)->excludes(all);
  remote->excludes(all);
  cmd->add_flag("--json", global.json, "Print the daemon's reply as JSON");
  cmd->callback([&run, scope, cmd] {
    if (scope->empty()) throw CLI::ValidationError("delete", "choose --local, --remote or --all");
    (void)cmd;
    run = [scope](DaemonClient& c) { return remove(c, *scope); };
  });
}

}  // namespace dollhouse::ctl
