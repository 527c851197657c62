// dollhousectl service install|uninstall|status|start|stop [--dry-run] [--manager NAME]: registers
// the daemon with this platform's service manager for the current user (see
// ctl/service/service_manager.hpp). None of these talk to the daemon.
#include <iostream>

#include "ctl/commands/commands.hpp"
#include "ctl/service/service_manager.hpp"

namespace dollhouse::ctl {

void add_service_commands(CLI::App& parent, Action& run) {
  // Shared by the subcommands and their callbacks, which outlive this call.
  auto options = std::make_shared<ServiceOptions>();
  using Step = int (ServiceManager::*)(const ServiceOptions&);
  auto add = [&parent, &run, options](const char* name, const char* help, Step step) {
    auto* cmd = parent.add_subcommand(name, help);
    cmd->add_flag("--dry-run", options->dry_run, "Print what would be done; change nothing");
    cmd->add_option("--manager", options->manager,
                    "Service manager (default: " + default_service_manager() + ")")
        ->check(CLI::IsMember(available_service_managers()));
    cmd->callback([&run, step, options] {
      run = [step, options](DaemonClient&) {
        const std::string chosen =
            options->manager.empty() ? default_service_manager() : options->manager;
        auto manager = make_service_manager(chosen);
        if (!manager) {
          std::cerr << "dollhousectl: this build cannot drive " << chosen << "\n";
          return kExitUsage;
        }
        return (manager.get()->*step)(*options);
      };
    });
  };
  add("install", "Register the daemon with the service manager and start it on demand",
      &ServiceManager::install);
  add("uninstall", "Stop the daemon's service and remove its registration",
      &ServiceManager::uninstall);
  add("status", "Whether the service is registered and running", &ServiceManager::status);
  add("start", "Start the registered service now", &ServiceManager::start);
  add("stop", "Stop the service until it is started again (the registration stays)",
      &ServiceManager::stop);
}

}  // namespace dollhouse::ctl
