// dollhousectl telemetry flush
#include <iostream>

#include "ctl/commands/commands.hpp"
#include "ctl/format.hpp"

namespace dollhouse::ctl {

namespace {

int flush(DaemonClient& client) {
  auto reply = client.request("flush", nlohmann::json::object(), std::chrono::seconds(300));
  if (!reply) return report_failure(reply.status());
  if (!reply->value("ok", false)) return report_error_reply(*reply);
  const nlohmann::json& f = (*reply)["flush"];
  bool failed = !f.value("error", nlohmann::json()).is_null();
  if (client.options().json) {
    std::cout << f.dump(2) << "\n";
    return failed ? kExitFailed : kExitOk;
  }
  std::int64_t events = f.value("sentEvents", std::int64_t{0});
  std::int64_t batches = f.value("batches", std::int64_t{0});
  std::cout << "Sent " << events << " event" << (events == 1 ? "" : "s") << " in " << batches
            << " batch" << (batches == 1 ? "" : "es") << ".\n";
  if (std::int64_t d = f.value("deletions", std::int64_t{0}); d > 0) {
    std::cout << "The server confirmed " << d << " deletion request" << (d == 1 ? "" : "s")
              << ".\n";
  }
  if (std::int64_t d = f.value("droppedByServer", std::int64_t{0}); d > 0) {
    std::cout << "The server refused " << d << " events for good; they were dropped (see "
              << "`telemetry status`).\n";
  }
  if (failed) {
    std::cerr << "dollhousectl: upload failed: " << f["error"].get<std::string>();
    if (f["nextAttempt"].is_string()) {
      std::cerr << "; the daemon tries again "
                << relative_time(f["nextAttempt"].get<std::string>(),
                                 SystemClock::instance().now());
    }
    std::cerr << "\n";
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace

void add_flush_command(CLI::App& parent, GlobalOptions& global, Action& run) {
  auto* cmd = parent.add_subcommand("flush", "Upload queued events now and say what was sent");
  cmd->add_flag("--json", global.json, "Print the outcome as JSON");
  cmd->callback([&run] { run = flush; });
}

}  // namespace dollhouse::ctl
