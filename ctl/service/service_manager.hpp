// `dollhousectl service`: the daemon registered with the platform's service manager for the
// current user. One implementation per manager: systemd user units (systemd.cpp), a launchd
// LaunchAgent (launchd.cpp), a Windows per-user service (windows.cpp). Each prints every step
// before it takes it; with dry_run it prints and changes nothing. Helper programs (systemctl,
// launchctl) run with an argument vector, never through a shell.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace dollhouse::ctl {

struct ServiceOptions {
  bool dry_run = false;
  std::string manager;  // "systemd", "launchd" or "windows"; empty: the platform's own
};

class ServiceManager {
 public:
  virtual ~ServiceManager() = default;
  // Each returns the process exit code (kExitOk or kExitFailed).
  virtual int install(const ServiceOptions& options) = 0;
  virtual int uninstall(const ServiceOptions& options) = 0;
  virtual int status(const ServiceOptions& options) = 0;
  // Start the installed service now / stop it until the next start or sign-in; the registration
  // stays. Each says what to do when the service is not installed.
  virtual int start(const ServiceOptions& options) = 0;
  virtual int stop(const ServiceOptions& options) = 0;
};

// The managers this build can drive: systemd and launchd on POSIX (launchd's files can be
// written anywhere; only launchctl needs macOS), windows on Windows.
std::vector<std::string> available_service_managers();
// "launchd" on macOS, "windows" on Windows, else "systemd".
std::string default_service_manager();
// nullptr for a name not in available_service_managers().
std::unique_ptr<ServiceManager> make_service_manager(const std::string& name);

#ifndef _WIN32
std::unique_ptr<ServiceManager> make_systemd_manager();
std::unique_ptr<ServiceManager> make_launchd_manager();
#else
std::unique_ptr<ServiceManager> make_windows_manager();
#endif

// Shared by the managers: the daemon binary installed next to this dollhousectl, or "" after
// saying on stderr why there is none.
std::string daemon_next_to_ctl();
// "a b c" for printing a command.
std::string joined(const std::vector<std::string>& args);
// Runs a helper program, printing "run: <command>" first and its output after; does nothing
// more with dry_run. Returns its exit code (0 in a dry run, 127 when it could not start).
int run_step(const std::vector<std::string>& args, const ServiceOptions& options);

}  // namespace dollhouse::ctl
