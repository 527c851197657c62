#include "ctl/run_ctl.hpp"

#include <algorithm>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "ctl/commands/commands.hpp"
#include "ctl/platform.hpp"
#include "ctl/suggest.hpp"

namespace dollhouse::ctl {

int RunCtl(int argc, char** argv) {
  platform::ignore_broken_pipe();
  CLI::App cli{"dollhousectl: see and control Dollhouse Telemetry on this machine."};
  cli.require_subcommand(1);
  GlobalOptions global;
  Action run;
  cli.set_version_flag("--version", DOLLHOUSE_VERSION);
  cli.add_option("--home", global.home, "Data root (default: $DOLLHOUSE_HOME or ~/.dollhouse)");
  cli.add_option("--socket", global.socket, "Daemon socket (default: as the daemon resolves it)");
  cli.add_flag("--no-start", global.no_start, "Do not start the daemon when it is not running");

  auto* telemetry = cli.add_subcommand("telemetry", "Consent, status and the local log");
  telemetry->require_subcommand(1);
  telemetry->fallthrough();
  add_status_command(*telemetry, global, run);
  add_enable_command(*telemetry, global, run);
  add_disable_command(*telemetry, global, run);
  add_show_command(*telemetry, global, run);
  add_delete_command(*telemetry, global, run);
  add_export_command(*telemetry, global, run);
  add_consent_command(*telemetry, global, run);
  add_flush_command(*telemetry, global, run);
  add_config_command(*telemetry, global, run);
  for (auto* sub : telemetry->get_subcommands({})) sub->fallthrough();

  auto* daemon = cli.add_subcommand("daemon", "The telemetry daemon itself: status, stop, restart");
  daemon->require_subcommand(1);
  daemon->fallthrough();
  add_daemon_commands(*daemon, global, run);
  for (auto* sub : daemon->get_subcommands({})) sub->fallthrough();

  auto* service = cli.add_subcommand(
      "service", "The daemon as a user service (systemd, launchd, Windows service)");
  service->require_subcommand(1);
  add_service_commands(*service, run);

  // A mistyped subcommand or flag gets "did you mean"; every other usage error is CLI11's own.
  const std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
  if (auto message = unknown_name_message(cli, "dollhousectl", args)) {
    std::cerr << *message;
    return kExitUsage;
  }
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = cli.exit(e);
    if (rc == 0) return kExitOk;
    if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr &&
        std::string_view(e.what()).find("subcommand") != std::string_view::npos) {
      std::cerr << missing_subcommand_list(cli, "dollhousectl");
    }
    return kExitUsage;
  }
  if (!run) return kExitUsage;
  global.command = chosen_command(cli);
  try {
    DaemonClient client(global);
    return run(client);
  } catch (const std::exception& e) {
    std::cerr << "dollhousectl: unexpected error: " << e.what() << "\n";
    return kExitFailed;
  }
}

}  // namespace dollhouse::ctl
