// The LaunchAgent: ~/Library/LaunchAgents/com.dollhousemcp.telemetry.plist from launchd/, with
// absolute paths written in (launchd expands neither "~" nor variables). launchd owns the
// socket and starts the daemon on the first connection. install writes the plist, creates the
// socket's directory (0700) and bootstraps the agent into this user's GUI domain; uninstall
// boots it out and removes the plist.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "common/environment.hpp"
#include "ctl/daemon_client.hpp"
#include "ctl/service/service_manager.hpp"
#include "ctl/service_units.hpp"
#include "ipc/unix_socket.hpp"

namespace dollhouse::ctl {

namespace {

namespace fs = std::filesystem;

std::string xml_escaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string substituted(std::string text,
                        const std::vector<std::pair<std::string, std::string>>& values) {
  for (const auto& [placeholder, value] : values) {
    const std::string escaped = xml_escaped(value);
    for (auto at = text.find(placeholder); at != std::string::npos;
         at = text.find(placeholder, at + escaped.size())) {
      text.replace(at, placeholder.size(), escaped);
    }
  }
  return text;
}

struct AgentPaths {
  std::string home;
  std::string plist;
  std::string data_root;
  std::string socket;
};

// Everything absolute, or nullopt after saying why not.
std::optional<AgentPaths> agent_paths() {
  EnvLookup env = process_env();
  AgentPaths paths;
  if (auto home = env("HOME"); home && home->size() > 1 && home->front() == '/') {
    paths.home = *home;
  } else {
    std::cerr << "dollhousectl: HOME is not an absolute path; cannot tell where the "
                 "LaunchAgent belongs\n";
    return std::nullopt;
  }
  paths.plist = paths.home + "/Library/LaunchAgents/" + kLaunchAgentLabel + ".plist";
  auto root = resolve_data_root(std::nullopt, env);
  if (!root) {
    std::cerr << "dollhousectl: " << root.status().message() << "\n";
    return std::nullopt;
  }
  paths.data_root = *root;
  paths.socket = resolve_socket_path(std::nullopt, env, paths.data_root);
  if (paths.data_root.front() != '/' || paths.socket.front() != '/') {
    std::cerr << "dollhousectl: DOLLHOUSE_HOME and DOLLHOUSE_TELEMETRY_SOCKET must be absolute "
                 "paths for launchd\n";
    return std::nullopt;
  }
  return paths;
}

std::string gui_domain() {
  return "gui/" + std::to_string(::getuid());
}

bool launchctl(const std::vector<std::string>& args, const ServiceOptions& options,
               bool failure_is_fine = false) {
  std::vector<std::string> command = {"launchctl"};
  command.insert(command.end(), args.begin(), args.end());
  int rc = run_step(command, options);
  if (rc == 0 || failure_is_fine) return true;
  if (rc == 127) {
    std::cerr << "dollhousectl: launchctl was not found; launchd agents exist on macOS only\n";
  } else {
    std::cerr << "dollhousectl: `" << joined(command) << "` failed (exit " << rc << ")\n";
  }
  return false;
}

class LaunchdManager final : public ServiceManager {
 public:
  int install(const ServiceOptions& options) override {
    const std::string daemon = daemon_next_to_ctl();
    if (daemon.empty()) return kExitFailed;
    auto paths = agent_paths();
    if (!paths) return kExitFailed;
    const std::string socket_dir = paths->socket.substr(0, paths->socket.rfind('/'));
    std::cout << "create: " << socket_dir
              << " (mode 0700 when missing, for the socket launchd creates)\n";
    if (!options.dry_run) {
      if (Status st = ipc::prepare_socket_directory(socket_dir); !st) {
        std::cerr << "dollhousectl: " << st.message() << "\n";
        return kExitFailed;
      }
    }
    const std::string text =
        substituted(kLaunchAgentTemplate, {{"@BINDIR@", daemon.substr(0, daemon.rfind('/'))},
                                           {"@DATA_ROOT@", paths->data_root},
                                           {"@SOCKET@", paths->socket},
                                           {"@HOME@", paths->home}});
    std::cout << "write: " << paths->plist << "\n";
    if (!options.dry_run) {
      std::error_code ec;
      fs::create_directories(fs::path(paths->plist).parent_path(), ec);
      fs::create_directories(paths->home + "/Library/Logs", ec);
      std::ofstream out(paths->plist, std::ios::trunc);
      out << text;
      out.close();
      if (!out) {
        std::cerr << "dollhousectl: cannot write " << paths->plist << "\n";
        return kExitFailed;
      }
    }
    // A loaded older copy would keep its old paths: take it out first (it may not be there).
    launchctl({"bootout", gui_domain() + "/" + kLaunchAgentLabel}, options, true);
    if (!launchctl({"bootstrap", gui_domain(), paths->plist}, options)) {
      std::cerr << "dollhousectl: the plist is written; load it in a macOS login session with: "
                   "launchctl bootstrap "
                << gui_domain() << " " << paths->plist << "\n";
      return kExitFailed;
    }
    std::cout << (options.dry_run ? "dry run: nothing was changed\n"
                                  : "installed: the daemon starts when an app first connects\n");
    return kExitOk;
  }

  int uninstall(const ServiceOptions& options) override {
    auto paths = agent_paths();
    if (!paths) return kExitFailed;
    bool ok = launchctl({"bootout", gui_domain() + "/" + kLaunchAgentLabel}, options);
    std::error_code ec;
    if (fs::exists(paths->plist, ec)) {
      std::cout << "remove: " << paths->plist << "\n";
      if (!options.dry_run && !fs::remove(paths->plist, ec)) {
        std::cerr << "dollhousectl: cannot remove " << paths->plist << ": " << ec.message() << "\n";
        ok = false;
      }
    }
    if (options.dry_run) std::cout << "dry run: nothing was changed\n";
    return ok ? kExitOk : kExitFailed;
  }

  int status(const ServiceOptions& options) override {
    auto paths = agent_paths();
    if (!paths) return kExitFailed;
    std::error_code ec;
    std::cout << kLaunchAgentLabel << ": "
              << (fs::exists(paths->plist, ec) ? "installed (" + paths->plist + ")"
                                               : "not installed")
              << "\n";
    int rc = run_step({"launchctl", "print", gui_domain() + "/" + kLaunchAgentLabel}, options);
    if (options.dry_run) return kExitOk;
    if (rc == 127) {
      std::cerr << "dollhousectl: launchctl was not found; launchd agents exist on macOS only\n";
      return kExitFailed;
    }
    std::cout << (rc == 0 ? "loaded\n" : "not loaded\n");
    return kExitOk;
  }

  // Loaded again (if it was stopped) and started at once / unloaded until `start` or the next
  // login, which loads every agent in ~/Library/LaunchAgents.
  int start(const ServiceOptions& options) override {
    auto paths = agent_paths();
    if (!paths) return kExitFailed;
    std::error_code ec;
    if (!fs::exists(paths->plist, ec)) return report_not_installed();
    // Already loaded is fine: bootstrap then fails and kickstart starts it.
    launchctl({"bootstrap", gui_domain(), paths->plist}, options, true);
    if (!launchctl({"kickstart", gui_domain() + "/" + kLaunchAgentLabel}, options)) {
      return kExitFailed;
    }
    if (options.dry_run) std::cout << "dry run: nothing was changed\n";
    return kExitOk;
  }

  int stop(const ServiceOptions& options) override {
    auto paths = agent_paths();
    if (!paths) return kExitFailed;
    std::error_code ec;
    if (!fs::exists(paths->plist, ec)) return report_not_installed();
    if (!launchctl({"bootout", gui_domain() + "/" + kLaunchAgentLabel}, options)) {
      return kExitFailed;
    }
    std::cout << (options.dry_run ? "dry run: nothing was changed\n"
                                  : "stopped: queued events stay queued; `dollhousectl service "
                                    "start` or the next login starts it again\n");
    return kExitOk;
  }

 private:
  static int report_not_installed() {
    std::cerr << "dollhousectl: the LaunchAgent is not installed: run `dollhousectl service "
                 "install` first\n";
    return kExitFailed;
  }
};

}  // namespace

std::unique_ptr<ServiceManager> make_launchd_manager() {
  return std::make_unique<LaunchdManager>();
}

}  // namespace dollhouse::ctl
