// The systemd user units: dollhouse-telemetry.socket and .service in $XDG_CONFIG_HOME/systemd/user
// (else ~/.config/systemd/user), the service pointing at the dollhouse-telemetryd next to this
// dollhousectl. install writes both, reloads the user manager and enables the socket, so the
// daemon starts on the first connection.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "common/environment.hpp"
#include "ctl/daemon_client.hpp"
#include "ctl/service/service_manager.hpp"
#include "ctl/service_units.hpp"

namespace dollhouse::ctl {

namespace {

namespace fs = std::filesystem;

// $XDG_CONFIG_HOME/systemd/user when XDG_CONFIG_HOME is absolute, else $HOME/.config/...;
// "" when neither is usable (the caller then refuses rather than write under "/").
std::string unit_directory(const EnvLookup& env) {
  if (auto xdg = env("XDG_CONFIG_HOME"); xdg && !xdg->empty() && xdg->front() == '/') {
    return *xdg + "/systemd/user";
  }
  if (auto home = env("HOME"); home && home->size() > 1 && home->front() == '/') {
    return *home + "/.config/systemd/user";
  }
  return "";
}

int report_no_unit_directory() {
  std::cerr << "dollhousectl: neither XDG_CONFIG_HOME nor HOME is an absolute path; cannot tell "
               "where the systemd user units belong\n";
  return kExitFailed;
}

std::string service_unit_text(const std::string& bindir) {
  std::string text = kServiceUnitTemplate;
  const std::string placeholder = "@BINDIR@";
  for (auto at = text.find(placeholder); at != std::string::npos; at = text.find(placeholder)) {
    text.replace(at, placeholder.size(), bindir);
  }
  return text;
}

// Runs systemctl --user with `args`. False when it failed, after explaining the likely reason.
bool systemctl(std::vector<std::string> args, const ServiceOptions& options) {
  args.insert(args.begin(), {"systemctl", "--user"});
  int rc = run_step(args, options);
  if (rc == 0) return true;
  if (rc == 127) {
    std::cerr << "dollhousectl: systemctl was not found; this system does not use systemd\n";
  } else {
    std::cerr << "dollhousectl: `" << joined(args) << "` failed (exit " << rc
              << "): systemctl --user cannot reach a user service manager here (common in "
                 "containers, CI and sessions without a systemd user instance)\n";
  }
  return false;
}

Status write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::error("io_error", "cannot write " + path);
  return Status::ok();
}

class SystemdManager final : public ServiceManager {
 public:
  int install(const ServiceOptions& options) override {
    const std::string daemon = daemon_next_to_ctl();
    if (daemon.empty()) return kExitFailed;
    const std::string bindir = daemon.substr(0, daemon.rfind('/'));
    const std::string dir = unit_directory(process_env());
    if (dir.empty()) return report_no_unit_directory();
    const std::vector<std::pair<std::string, std::string>> files = {
        {dir + "/" + kSocketUnitName, kSocketUnitText},
        {dir + "/" + kServiceUnitName, service_unit_text(bindir)}};
    for (const auto& [path, text] : files) {
      std::cout << "write: " << path << "\n";
      if (options.dry_run) continue;
      std::error_code ec;
      fs::create_directories(dir, ec);
      if (Status st = write_file(path, text); !st) {
        std::cerr << "dollhousectl: " << st.message() << "\n";
        return kExitFailed;
      }
    }
    if (!systemctl({"daemon-reload"}, options) ||
        !systemctl({"enable", "--now", kSocketUnitName}, options)) {
      std::cerr << "dollhousectl: the unit files are written; enable them in a session with a "
                   "user manager: systemctl --user enable --now "
                << kSocketUnitName << "\n";
      return kExitFailed;
    }
    std::cout << (options.dry_run ? "dry run: nothing was changed\n"
                                  : "installed: the daemon starts when an app first connects\n");
    return kExitOk;
  }

  int uninstall(const ServiceOptions& options) override {
    const std::string dir = unit_directory(process_env());
    if (dir.empty()) return report_no_unit_directory();
    bool ok = systemctl({"disable", "--now", kSocketUnitName, kServiceUnitName}, options);
    for (const char* name : {kSocketUnitName, kServiceUnitName}) {
      std::string path = dir + "/" + name;
      std::error_code ec;
      if (!fs::exists(path, ec)) continue;
      std::cout << "remove: " << path << "\n";
      if (!options.dry_run && !fs::remove(path, ec)) {
        std::cerr << "dollhousectl: cannot remove " << path << ": " << ec.message() << "\n";
        ok = false;
      }
    }
    ok = systemctl({"daemon-reload"}, options) && ok;
    if (options.dry_run) std::cout << "dry run: nothing was changed\n";
    return ok ? kExitOk : kExitFailed;
  }

  int status(const ServiceOptions& options) override {
    const std::string dir = unit_directory(process_env());
    if (dir.empty()) return report_no_unit_directory();
    for (const char* name : {kSocketUnitName, kServiceUnitName}) {
      std::string path = dir + "/" + name;
      std::error_code ec;
      std::cout << name << ": "
                << (fs::exists(path, ec) ? "installed (" + path + ")" : "not installed") << "\n";
    }
    int rc =
        run_step({"systemctl", "--user", "is-active", kSocketUnitName, kServiceUnitName}, options);
    // is-active exits 3 for inactive units; that is an answer, not a failure.
    if (rc == 0 || rc == 3) return kExitOk;
    std::cerr << "dollhousectl: systemctl --user cannot reach a user service manager here\n";
    return kExitFailed;
  }

  // The socket and the service: started, the daemon runs at once and the socket stays with
  // systemd; stopped, neither comes back until `start` or the next login (the socket unit is
  // enabled).
  int start(const ServiceOptions& options) override {
    if (!installed()) return report_not_installed();
    if (!systemctl({"start", kSocketUnitName, kServiceUnitName}, options)) return kExitFailed;
    if (options.dry_run) std::cout << "dry run: nothing was changed\n";
    return kExitOk;
  }

  int stop(const ServiceOptions& options) override {
    if (!installed()) return report_not_installed();
    if (!systemctl({"stop", kServiceUnitName, kSocketUnitName}, options)) return kExitFailed;
    std::cout << (options.dry_run ? "dry run: nothing was changed\n"
                                  : "stopped: queued events stay queued; `dollhousectl service "
                                    "start` or the next login starts it again\n");
    return kExitOk;
  }

 private:
  static bool installed() {
    const std::string dir = unit_directory(process_env());
    std::error_code ec;
    return !dir.empty() && fs::exists(dir + "/" + kSocketUnitName, ec);
  }
  static int report_not_installed() {
    std::cerr << "dollhousectl: the systemd user units are not installed: run `dollhousectl "
                 "service install` first\n";
    return kExitFailed;
  }
};

}  // namespace

std::unique_ptr<ServiceManager> make_systemd_manager() {
  return std::make_unique<SystemdManager>();
}

}  // namespace dollhouse::ctl
