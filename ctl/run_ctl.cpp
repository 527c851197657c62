#include "ctl/run_ctl.hpp"

#include <iostream>

#include "ctl/commands/commands.hpp"
#include "ctl/platform.hpp"

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
  for (auto* sub : telemetry->get_subcommands({})) sub->fallthrough();

  auto* service = cli.add_subcommand(
      "service", "The daemon as a user service (systemd, launchd, Windows service)");
  service->require_subcommand(1);
  add_service_commands(*service, run);

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = cli.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  if (!run) return kExitUsage;
  try {
    DaemonClient client(global);
    return run(client);
  } catch (const std::exception& e) {
    std::cerr << "dollhousectl: unexpected error: " << e.what() << "\n";
    return kExitFailed;
  }
}

}  // namespace dollhouse::ctl
