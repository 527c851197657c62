// dollhousectl service install|uninstall|status [--dry-run]: the systemd user units.
//
// install writes dollhouse-telemetry.socket and .service into $XDG_CONFIG_HOME/systemd/user
// (else ~/.config/systemd/user), with the absolute path of the dollhouse-telemetryd next to this
// dollhousectl, then reloads the user manager and enables the socket. Every step is printed
// before it is done; --dry-run prints and does nothing. systemctl is run with an argument
// vector (fork/exec), never through a shell.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <vector>

#include "common/environment.hpp"
#include "ctl/commands/commands.hpp"
#include "ctl/service_units.hpp"

namespace dollhouse::ctl {

namespace {

namespace fs = std::filesystem;

struct ServiceOptions {
  bool dry_run = false;
};

struct CommandOutput {
  int exit_code = -1;  // 127 when systemctl could not be started
  std::string text;    // stdout and stderr together
};

std::string own_directory() {
  std::vector<char> buf(4096);
  ssize_t n = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  if (n <= 0) return "";
  std::string self(buf.data(), static_cast<std::size_t>(n));
  return self.substr(0, self.rfind('/'));
}

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

CommandOutput run_command(const std::vector<std::string>& args) {
  CommandOutput result;
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return result;
  pid_t child = ::fork();
  if (child < 0) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    return result;
  }
  if (child == 0) {
    ::dup2(pipe_fds[1], 1);
    ::dup2(pipe_fds[1], 2);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::read(pipe_fds[0], buf, sizeof(buf))) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    result.text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  int wait_status = 0;
  while (::waitpid(child, &wait_status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code =
      WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
  return result;
}

std::string joined(const std::vector<std::string>& args) {
  std::string line;
  for (const auto& a : args) line += (line.empty() ? "" : " ") + a;
  return line;
}

// Runs systemctl --user with `args`, printing what it runs and what it says. False when it
// failed, after explaining the likely reason.
bool systemctl(std::vector<std::string> args, const ServiceOptions& options) {
  args.insert(args.begin(), {"systemctl", "--user"});
  std::cout << "run: " << joined(args) << "\n";
  if (options.dry_run) return true;
  CommandOutput out = run_command(args);
  if (!out.text.empty()) std::cout << out.text << (out.text.back() == '\n' ? "" : "\n");
  if (out.exit_code == 0) return true;
  if (out.exit_code == 127) {
    std::cerr << "dollhousectl: systemctl was not found; this system does not use systemd\n";
  } else {
    std::cerr << "dollhousectl: `" << joined(args) << "` failed (exit " << out.exit_code
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

int run_install(const ServiceOptions& options) {
  const std::string bindir = own_directory();
  const std::string daemon = bindir + "/dollhouse-telemetryd";
  if (bindir.empty() || ::access(daemon.c_str(), X_OK) != 0) {
    std::cerr << "dollhousectl: dollhouse-telemetryd is not next to dollhousectl (" << daemon
              << "); install both into the same directory\n";
    return kExitFailed;
  }
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

int run_uninstall(const ServiceOptions& options) {
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

int run_status(const ServiceOptions& options) {
  const std::string dir = unit_directory(process_env());
  if (dir.empty()) return report_no_unit_directory();
  for (const char* name : {kSocketUnitName, kServiceUnitName}) {
    std::string path = dir + "/" + name;
    std::error_code ec;
    std::cout << name << ": "
              << (fs::exists(path, ec) ? "installed (" + path + ")" : "not installed") << "\n";
  }
  std::vector<std::string> args = {"systemctl", "--user", "is-active", kSocketUnitName,
                                   kServiceUnitName};
  std::cout << "run: " << joined(args) << "\n";
  if (options.dry_run) return kExitOk;
  CommandOutput out = run_command(args);
  std::cout << out.text << (out.text.empty() || out.text.back() == '\n' ? "" : "\n");
  // is-active exits 3 for inactive units; that is an answer, not a failure.
  if (out.exit_code == 0 || out.exit_code == 3) return kExitOk;
  std::cerr << "dollhousectl: systemctl --user cannot reach a user service manager here\n";
  return kExitFailed;
}

}  // namespace

void add_service_commands(CLI::App& parent, Action& run) {
  // Shared by the three subcommands and their callbacks, which outlive this call.
  auto options = std::make_shared<ServiceOptions>();
  auto add = [&parent, &run, options](const char* name, const char* help,
                                      int (*action)(const ServiceOptions&)) {
    auto* cmd = parent.add_subcommand(name, help);
    cmd->add_flag("--dry-run", options->dry_run, "Print what would be done; change nothing");
    cmd->callback([&run, action, options] {
      run = [action, options](DaemonClient&) { return action(*options); };
    });
  };
  add("install", "Write the systemd user units and enable the socket", run_install);
  add("uninstall", "Disable the units and remove them", run_uninstall);
  add("status", "Whether the units are installed and active", run_status);
}

}  // namespace dollhouse::ctl
