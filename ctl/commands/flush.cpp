// dollhousectl telemetry flush
#include <iostream>

#include "ctl/commands/commands.hpp"
#include "ctl/format.hpp"
#include "ipc/reasons.hpp"

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
  auto n = [&](const char* key) { return f.value(key, std::int64_t{0}); };
  auto plural = [](std::int64_t k, const char* one, const char* many) {
    return std::to_string(k) + " " + (k == 1 ? one : many);
  };
  if (f.value("nothingToSend", false)) {
    std::cout << "Nothing to send: every stored event has already been uploaded.\n";
    return kExitOk;
  }
  if (std::int64_t d = n("deletions"); d > 0) {
    std::cout << "Deletion request sent: the server confirmed it deleted "
              << (d == 1 ? "this installation's data" : "the data of " + plural(d, "", "ids"))
              << ".\n";
  }
  if (n("sentEvents") > 0) {
    std::cout << "Sent " << plural(n("sentEvents"), "event", "events") << " in "
              << plural(n("batches"), "batch", "batches") << ".\n";
  }
  if (n("alreadyDelivered") > 0) {
    std::cout << "The server already had " << plural(n("alreadyDelivered"), "event", "events")
              << " from an earlier attempt; they are marked sent.\n";
  }
  if (f["blockedBy"].is_string()) {
    auto blocker = ipc::parse_blocker(f["blockedBy"].get<std::string>());
    std::cout << "Nothing sent: " << plural(n("heldBack"), "event waits", "events wait")
              << ", but telemetry is off ("
              << (blocker == ipc::Blocker::kKillSwitch ? "a kill switch is set for the daemon"
                  : blocker == ipc::Blocker::kPolicyOutdated
                      ? "the privacy policy changed; answer again with dollhousectl telemetry "
                        "consent"
                      : "no consent")
              << ").\n";
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
