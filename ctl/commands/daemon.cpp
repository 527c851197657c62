// dollhousectl daemon status|stop|restart: the telemetry daemon process itself. `status` never
// starts it; `stop` asks it to finish as SIGTERM would (queued events stay queued) and waits
// until it is gone; `restart` stops it and starts it again from this dollhousectl's directory.
#include <chrono>
#include <iostream>
#include <thread>

#include "ctl/commands/commands.hpp"
#include "ctl/format.hpp"
#include "ctl/platform.hpp"

namespace dollhouse::ctl {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kStopWait = std::chrono::seconds(15);

GlobalOptions without_start(const GlobalOptions& o) {
  GlobalOptions copy = o;
  copy.no_start = true;
  return copy;
}

int daemon_status(DaemonClient& client) {
  DaemonClient probe(without_start(client.options()));
  auto reply = probe.request("status");
  if (!reply) {
    if (client.options().json) std::cout << json{{"running", false}}.dump(2) << "\n";
    if (reply.status().code() != ipc::line_error::kUnreachable)
      return report_failure(reply.status());
    std::cerr << "dollhousectl: the daemon is not running (socket " << probe.socket_path()
              << "); start it with: dollhousectl daemon restart\n";
    return kExitUnreachable;
  }
  if (!reply->value("ok", false)) return report_error_reply(*reply);
  const json& d = (*reply)["daemon"];
  if (client.options().json) {
    json out = d;
    out["running"] = true;
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  SystemTime now = SystemClock::instance().now();
  std::cout << aligned_rows(
      {{"Daemon:", "running, pid " + std::to_string(d.value("pid", 0)) + ", version " +
                       d.value("version", "")},
       {"Started:", relative_time(d.value("startedAt", ""), now)},
       {"Socket:", d.value("socket", "")},
       {"Data root:", d.value("dataRoot", "")},
       {"Connections:", std::to_string(d.value("connections", 0)) + " open, " +
                            std::to_string(d.value("connectionsTotal", 0)) + " since it started"}});
  return kExitOk;
}

// Asks the daemon to stop and waits until its socket no longer answers. Returns the pid it had,
// 0 when none was running, or nullopt with the exit code in `rc` on failure.
std::optional<std::int64_t> stop_daemon(DaemonClient& client, int& rc) {
  DaemonClient probe(without_start(client.options()));
  auto reply = probe.request("shutdown");
  if (!reply) {
    if (reply.status().code() == ipc::line_error::kUnreachable) return 0;
    rc = report_failure(reply.status());
    return std::nullopt;
  }
  if (!reply->value("ok", false)) {
    rc = report_error_reply(*reply);
    return std::nullopt;
  }
  const std::int64_t pid = reply->value("pid", std::int64_t{0});
  auto deadline = Clock::now() + kStopWait;
  // Stopped means the process has ended: it closes its socket first and may still finish an
  // upload and release its lock after that, so a new daemon started earlier would be refused.
  while (Clock::now() < deadline) {
    if (!platform::process_running(pid)) return pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::cerr << "dollhousectl: the daemon (pid " << pid << ") was asked to stop but still answers "
            << "after " << kStopWait.count() << " s; it may be finishing an upload. Check again "
            << "with: dollhousectl daemon status\n";
  rc = kExitFailed;
  return std::nullopt;
}

int stop(DaemonClient& client) {
  int rc = kExitOk;
  auto pid = stop_daemon(client, rc);
  if (!pid) return rc;
  if (*pid == 0) {
    std::cout << "The daemon was not running.\n";
  } else {
    std::cout << "Stopped the daemon (pid " << *pid << "). Queued events stay queued.\n"
              << "A socket-activated service starts it again on the next connection; apps keep "
                 "working without it.\n";
  }
  return kExitOk;
}

int restart(DaemonClient& client) {
  int rc = kExitOk;
  auto pid = stop_daemon(client, rc);
  if (!pid) return rc;
  GlobalOptions options = client.options();
  options.no_start = false;
  DaemonClient fresh(options);
  auto reply = fresh.request("status");
  if (!reply) return report_failure(reply.status());
  if (!reply->value("ok", false)) return report_error_reply(*reply);
  std::cout << (*pid == 0 ? "The daemon was not running; started it" : "Restarted the daemon")
            << " (pid " << (*reply)["daemon"].value("pid", 0) << ").\n";
  return kExitOk;
}

}  // namespace

void add_daemon_commands(CLI::App& parent, GlobalOptions& global, Action& run) {
  auto* status = parent.add_subcommand("status", "Whether the daemon runs, its pid and socket");
  status->add_flag("--json", global.json, "Print as JSON");
  status->callback([&run] { run = daemon_status; });
  auto* stop_cmd = parent.add_subcommand("stop", "Stop the daemon; queued events stay queued");
  stop_cmd->callback([&run] { run = stop; });
  auto* restart_cmd = parent.add_subcommand("restart", "Stop the daemon and start it again");
  restart_cmd->callback([&run] { run = restart; });
}

}  // namespace dollhouse::ctl
