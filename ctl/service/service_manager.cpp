#include "ctl/service/service_manager.hpp"

#include <iostream>

#include "ctl/platform.hpp"

namespace dollhouse::ctl {

std::vector<std::string> available_service_managers() {
#ifdef _WIN32
  return {"windows"};
#else
  return {"systemd", "launchd"};
#endif
}

std::string default_service_manager() {
#if defined(_WIN32)
  return "windows";
#elif defined(__APPLE__)
  return "launchd";
#else
  return "systemd";
#endif
}

std::unique_ptr<ServiceManager> make_service_manager(const std::string& name) {
#ifdef _WIN32
  if (name == "windows") return make_windows_manager();
#else
  if (name == "systemd") return make_systemd_manager();
  if (name == "launchd") return make_launchd_manager();
#endif
  return nullptr;
}

std::string daemon_next_to_ctl() {
  const std::string dir = platform::own_directory();
  const std::string daemon =
      platform::join_path(dir, platform::program_file("dollhouse-telemetryd"));
  if (dir.empty() || !platform::is_executable(daemon)) {
    std::cerr << "dollhousectl: dollhouse-telemetryd is not next to dollhousectl (" << daemon
              << "); install both into the same directory\n";
    return "";
  }
  return daemon;
}

std::string joined(const std::vector<std::string>& args) {
  std::string line;
  for (const auto& a : args) line += (line.empty() ? "" : " ") + a;
  return line;
}

int run_step(const std::vector<std::string>& args, const ServiceOptions& options) {
  std::cout << "run: " << joined(args) << "\n";
  if (options.dry_run) return 0;
  platform::CommandOutput out = platform::run_command(args);
  if (!out.text.empty()) std::cout << out.text << (out.text.back() == '\n' ? "" : "\n");
  return out.exit_code;
}

}  // namespace dollhouse::ctl
