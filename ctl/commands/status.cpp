// dollhousectl telemetry status [--json]
#include <iostream>

#include "common/environment.hpp"
#include "ctl/commands/commands.hpp"
#include "ctl/format.hpp"
#include "ipc/reasons.hpp"

namespace dollhouse::ctl {

using nlohmann::json;

namespace {

std::string str(const json& j, const char* key, const std::string& fallback = "") {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

std::optional<ipc::ConsentAnswer> answer_of(const json& consent) {
  return ipc::parse_consent_answer(str(consent, ipc::field::kConsentState));
}

std::string blocker_text(std::optional<ipc::Blocker> blocker, const json& consent) {
  if (!blocker) return "off";
  switch (*blocker) {
    case ipc::Blocker::kKillSwitch:
      return "off: a kill switch is set (see below)";
    case ipc::Blocker::kNoConsent:
      switch (answer_of(consent).value_or(ipc::ConsentAnswer::kNotAnswered)) {
        case ipc::ConsentAnswer::kDeclined:
          return "off: you declined";
        case ipc::ConsentAnswer::kWithdrawn:
          return "off: you withdrew consent";
        default:
          return "off: no consent given (not answered yet)";
      }
    case ipc::Blocker::kPolicyOutdated:
      return "off: the privacy policy changed since you consented";
    case ipc::Blocker::kDisabled:
      return "off: disabled by you";
  }
  return "off";
}

std::string categories_text(const json& categories) {
  std::string on, off;
  for (const auto& [name, value] : categories.items()) {
    std::string& list = value.get<bool>() ? on : off;
    list += (list.empty() ? "" : ", ") + name;
  }
  std::string text = on.empty() ? "none" : on;
  if (!off.empty()) text += "  (off: " + off + ")";
  return text;
}

std::string dropped_text(const json& queue) {
  std::int64_t total = queue.value("droppedTotal", std::int64_t{0});
  if (total == 0) return "0";
  std::string parts;
  for (const auto& [reason, n] : queue["dropped"].items()) {
    if (n.get<std::int64_t>() == 0) continue;
    parts += (parts.empty() ? "" : ", ") + reason + " " + std::to_string(n.get<std::int64_t>());
  }
  return std::to_string(total) + " (" + parts + ")";
}

// One line per app: name, version, its switch, its share of the local log and what it sent
// (or had dropped) since the daemon started.
std::string apps_text(const json& apps, SystemTime now) {
  std::string out;
  for (const auto& a : apps) {
    std::string line = str(a, "name");
    if (!str(a, "version").empty()) line += " " + str(a, "version");
    line += a.value("enabled", true)
                ? ": on"
                : ": off (dollhousectl telemetry enable --app " + str(a, "name") + ")";
    line += "; " + std::to_string(a.value("pending", 0)) + " waiting, " +
            std::to_string(a.value("sent", 0)) + " sent";
    if (a.value("seen", false)) {
      line += "; since the daemon started " + std::to_string(a.value("accepted", 0)) + " kept, " +
              std::to_string(a.value("dropped", 0)) + " not kept; last seen " +
              relative_time(str(a, "lastSeen"), now);
    }
    out += (out.empty() ? "" : "\n") + line;
  }
  return out;
}

int print_status(DaemonClient& client) {
  auto reply = client.request("status");
  if (!reply) return report_failure(reply.status());
  if (!reply->value("ok", false)) return report_error_reply(*reply);
  json s = *reply;
  s.erase("id");
  s.erase("ok");
  KillSwitch here = evaluate_kill_switches(process_env());
  if (client.options().json) {
    std::cout << s.dump(2) << "\n";
    return kExitOk;
  }
  SystemTime now = SystemClock::instance().now();
  std::vector<std::pair<std::string, std::string>> rows;
  bool enabled = s.value("enabled", false);
  const std::optional<ipc::Blocker> blocker = ipc::parse_blocker(str(s, ipc::field::kBlockedBy));
  const bool nothing_on = categories_text(s["categories"]) == "none" || str(s, "level") == "off";
  rows.push_back({"Telemetry:", !enabled     ? blocker_text(blocker, s["consent"])
                                : nothing_on ? "on, but every category is off (level off): "
                                               "nothing is collected"
                                             : "on"});
  if (!str(s, "overriddenBy").empty()) {
    rows.push_back({"Kill switch:", str(s, "overriddenBy") + " in the daemon's environment: " +
                                        str(s, "overrideDetail") +
                                        "\nit wins over your settings until the daemon is "
                                        "restarted without it"});
  }
  if (here.off && here.overridden_by != str(s, "overriddenBy")) {
    rows.push_back({"This shell:", here.detail +
                                       "\napps started from here send nothing (their client "
                                       "library is a no-op)"});
  }
  const json& consent = s["consent"];
  const std::string when = relative_time(str(consent, "timestamp"), now);
  std::string consent_text = "not answered yet";
  switch (answer_of(consent).value_or(consent.value("given", false)
                                          ? ipc::ConsentAnswer::kGiven
                                          : ipc::ConsentAnswer::kNotAnswered)) {
    case ipc::ConsentAnswer::kGiven:
      consent_text = "given " + when + " (policy " + str(consent, ipc::field::kPolicyVersion) + ")";
      break;
    case ipc::ConsentAnswer::kDeclined:
      consent_text = "declined " + when;
      break;
    case ipc::ConsentAnswer::kWithdrawn:
      consent_text = "withdrawn " + when;
      break;
    case ipc::ConsentAnswer::kNotAnswered:
      consent_text = "not answered yet; answer with: dollhousectl telemetry consent";
      break;
  }
  if (blocker == ipc::Blocker::kPolicyOutdated) {
    consent_text += "\ncurrent policy is " + str(consent, ipc::field::kCurrentPolicyVersion) +
                    "; review it with: dollhousectl telemetry consent";
  }
  rows.push_back({"Consent:", consent_text});
  rows.push_back({"Level:", str(s, "level")});
  rows.push_back({"Categories:", categories_text(s["categories"])});
  if (std::string apps = apps_text(s.value(ipc::field::kApps, json::array()), now); !apps.empty()) {
    rows.push_back({"Apps:", apps});
  }
  rows.push_back({"Install ID:", str(s, "installId", "none (created when you consent)")});
  const json& q = s["queue"];
  rows.push_back({"Local log:", std::to_string(q.value("pending", 0)) + " waiting to upload, " +
                                    std::to_string(q.value("sent", 0)) + " sent, " +
                                    std::to_string(q.value("bytes", 0)) + " bytes; kept " +
                                    std::to_string(s.value(ipc::field::kMaxDataRetention, 0)) +
                                    " days"});
  rows.push_back({"Dropped:", dropped_text(q)});
  const json& up = s["upload"];
  std::string upload = str(up, "endpoint");
  if (!up.value("configured", false)) {
    upload += "\nnot uploading: " + str(up, "configError", "not configured");
  } else {
    upload += "\nlast success: " + (str(up, "lastSuccess").empty()
                                        ? std::string("never")
                                        : relative_time(str(up, "lastSuccess"), now));
    if (up.value("consecutiveFailures", 0) > 0) {
      int failures = up.value("consecutiveFailures", 0);
      upload += "\nlast error: " + str(up, "lastError") + " (" + std::to_string(failures) +
                (failures == 1 ? " failure" : " failures") + " in a row)";
    }
    if (!str(up, "nextAttempt").empty()) {
      upload += "\nnext attempt: " + relative_time(str(up, "nextAttempt"), now);
    }
  }
  rows.push_back({"Upload to:", upload});
  const json& rd = s.value("remoteDeletion", json::object());
  if (rd.value("pending", 0) > 0) {
    rows.push_back({"Server deletion:", "requested, waiting for the server to confirm"});
  } else if (rd.contains("lastCompleted") && rd["lastCompleted"].is_string()) {
    rows.push_back({"Server deletion:",
                    "confirmed " + relative_time(rd["lastCompleted"].get<std::string>(), now)});
  }
  const json& d = s["daemon"];
  rows.push_back({"Daemon:", "pid " + std::to_string(d.value("pid", 0)) + ", started " +
                                 relative_time(str(d, "startedAt"), now) + ", version " +
                                 str(d, "version") + "\nsocket " + str(d, "socket")});
  std::cout << aligned_rows(rows);
  if (!enabled) {
    if (blocker == ipc::Blocker::kKillSwitch) {
      std::cout << "\nUnset " << str(s, "overriddenBy")
                << " and restart the daemon to let your settings apply.\n";
    } else if (blocker.has_value()) {
      std::cout << "\nTo share anonymous usage data: dollhousectl telemetry enable\n";
    }
  } else {
    std::cout << "\nSee what is collected: dollhousectl telemetry show\n"
                 "Turn it off:           dollhousectl telemetry disable\n";
  }
  return kExitOk;
}

}  // namespace

void add_status_command(CLI::App& parent, GlobalOptions& global, Action& run) {
  auto* cmd = parent.add_subcommand("status", "Show whether telemetry is on, and why");
  cmd->add_flag("--json", global.json, "Print the status object as JSON");
  cmd->callback([&run] { run = print_status; });
}

}  // namespace dollhouse::ctl
