// dollhousectl telemetry and service subcommands, one file each, registered in run_ctl.cpp. Each
// returns the process exit code (see daemon_client.hpp).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>

#include "ctl/daemon_client.hpp"

namespace dollhouse::ctl {

// Adds a subcommand to `parent`; `run` is set to its action when it is the one chosen.
using Action = std::function<int(DaemonClient&)>;
void add_status_command(CLI::App& parent, GlobalOptions& global, Action& run);
void add_enable_command(CLI::App& parent, GlobalOptions& global, Action& run);
void add_disable_command(CLI::App& parent, GlobalOptions& global, Action& run);
void add_show_command(CLI::App& parent, GlobalOptions& global, Action& run);
void add_delete_command(CLI::App& parent, GlobalOptions& global, Action& run);
void add_export_command(CLI::App& parent, GlobalOptions& global, Action& run);
void add_consent_command(CLI::App& parent, GlobalOptions& global, Action& run);
void add_flush_command(CLI::App& parent, GlobalOptions& global, Action& run);
void add_config_command(CLI::App& parent, GlobalOptions& global, Action& run);
// `daemon status|stop|restart`.
void add_daemon_commands(CLI::App& parent, GlobalOptions& global, Action& run);
// `service install|uninstall|status`; these never talk to the daemon.
void add_service_commands(CLI::App& parent, Action& run);

}  // namespace dollhouse::ctl
