// dollhousectl telemetry show [--limit N] [--since TIME] [--json]
#include <algorithm>
#include <iostream>
#include <optional>

#include "ctl/commands/commands.hpp"
#include "ctl/format.hpp"
#include "ipc/reasons.hpp"

namespace dollhouse::ctl {

using nlohmann::json;

namespace {

constexpr std::int64_t kMaxLimit = 10000;

struct ShowOptions {
  std::int64_t limit = 20;
  std::string since;  // UTC, as the daemon reads it (parse_user_time converted the user's form)
};

// The fields that say what an event is about, in one short line.
std::string summary(const json& data) {
  std::string type = data.value("eventType", "");
  auto field = [&](const char* k) {
    auto it = data.find(k);
    if (it == data.end() || it->is_null()) return std::string();
    return it->is_string() ? it->get<std::string>() : it->dump();
  };
  if (type == "installation") return field("installMethod") + ", " + field("installType");
  if (type == "update") {
    return field("fromVersion") + " -> " + field("toVersion") + ", " +
           (data.value("success", false) ? "succeeded" : "failed");
  }
  if (type == "crash" || type == "error") {
    return field("component") + ": " + field("errorCategory") + " \"" + field("errorMessage") +
           "\"";
  }
  if (type == "weekly_summary") {
    return "week of " + field("weekStart") + ", " + field("sessionCount") + " sessions";
  }
  return {};
}

// Why the log is empty, from the consent summary the daemon sends with it (older daemons send
// none: then the user is pointed at status, which says).
std::string empty_log_text(const json& reply, const std::string& since) {
  std::string out = since.empty() ? "No events in the local log.\n"
                                  : "No events since " + since + " in the local log.\n";
  auto consent = reply.find("consent");
  if (consent == reply.end() || !consent->is_object()) {
    return out + "Whether telemetry collects anything: dollhousectl telemetry status\n";
  }
  auto text = [&](const char* key) {
    auto it = consent->find(key);
    return it != consent->end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto given = consent->find("given");
  const std::optional<ipc::ConsentAnswer> answer = ipc::parse_consent_answer(text("state"));
  const bool consented = answer
                             ? *answer == ipc::ConsentAnswer::kGiven
                             : given != consent->end() && given->is_boolean() && given->get<bool>();
  if (!since.empty() && consented) {
    // Older entries may exist; only this time range is empty.
    return out + "Without --since: dollhousectl telemetry show\n";
  }
  if (!consented) {
    if (answer == ipc::ConsentAnswer::kDeclined) {
      out += "You declined telemetry, so nothing is collected";
    } else if (answer == ipc::ConsentAnswer::kWithdrawn) {
      out += "You withdrew consent, so nothing is collected";
    } else {
      out += "Nothing is collected before you consent";
    }
    return out + " (dollhousectl telemetry status).\n";
  }
  const std::optional<ipc::Blocker> blocker = ipc::parse_blocker(text(ipc::field::kBlockedBy));
  if (blocker == ipc::Blocker::kKillSwitch) {
    return out +
           "Consent is given, but the daemon's environment switches collection off "
           "(dollhousectl telemetry status).\n";
  }
  if (blocker == ipc::Blocker::kPolicyOutdated) {
    return out +
           "Consent was given to an older privacy policy; nothing is collected until you "
           "consent again (dollhousectl telemetry consent).\n";
  }
  if (blocker == ipc::Blocker::kDisabled) {
    return out + "Collection is switched off (dollhousectl telemetry status).\n";
  }
  return out + "Consent is given; no app has sent anything yet.\n";
}

int show(DaemonClient& client, const ShowOptions& o) {
  json fields = {{"limit", o.limit}};
  if (!o.since.empty()) fields["since"] = o.since;
  auto reply = client.request("show", fields);
  if (!reply) return report_failure(reply.status());
  if (!reply->value("ok", false)) return report_error_reply(*reply);
  const json& entries = (*reply)["entries"];
  if (client.options().json) {
    std::cout << entries.dump(2) << "\n";
    return kExitOk;
  }
  if (entries.empty()) {
    std::cout << empty_log_text(*reply, o.since);
    return kExitOk;
  }
  SystemTime now = SystemClock::instance().now();
  // "total" counts every stored entry that matches --since; older daemons leave it out.
  const json total = reply->value("total", json());
  const std::int64_t shown = static_cast<std::int64_t>(entries.size());
  if (total.is_number_integer() && total.get<std::int64_t>() > shown) {
    const std::int64_t all = total.get<std::int64_t>();
    std::cout << "Newest first: " << shown << " of " << all << ". Older ones: --limit "
              << std::min(all, kMaxLimit)
              << (all > kMaxLimit ? " (the most at once) or --since" : "")
              << ". Full content: --json\n";
  } else {
    std::cout << "Newest first (" << shown << "). Full content: --json\n";
  }
  for (const auto& e : entries) {
    std::string when = relative_time(e.value("timestamp", ""), now);
    std::string type = e.value("eventType", "");
    std::string sent = e.value("sentToServer", false) ? "sent" : "queued";
    when.resize(std::max<std::size_t>(when.size(), 16), ' ');
    type.resize(std::max<std::size_t>(type.size(), 15), ' ');
    sent.resize(7, ' ');
    std::cout << "  " << when << type << sent << summary(e["data"]) << "\n";
  }
  return kExitOk;
}

}  // namespace

void add_show_command(CLI::App& parent, GlobalOptions& global, Action& run) {
  auto o = std::make_shared<ShowOptions>();
  auto* cmd = parent.add_subcommand("show", "Show the local telemetry log, newest first");
  cmd->add_option("--limit", o->limit, "How many entries")
      ->check(CLI::Range(std::int64_t{1}, kMaxLimit))
      ->capture_default_str();
  cmd->add_option("--since", o->since,
                  "Only entries since TIME: a date (2026-12-01, from midnight UTC) or a time "
                  "with its zone (2026-12-01T10:00:00Z, 2026-12-01T10:00:00+01:00)")
      ->transform(CLI::Validator(
          [](std::string& value) -> std::string {
            SystemTime t;
            if (!parse_user_time(value, t)) {
              return "expected a date such as 2026-12-01 (midnight UTC) or a time with its zone "
                     "such as 2026-12-01T10:00:00Z or 2026-12-01T10:00:00+01:00";
            }
            value = format_iso8601(t);
            return {};
          },
          "TIME"));
  cmd->add_flag("--json", global.json, "Print the entries as JSON (TelemetryLog objects)");
  cmd->callback([&run, o] { run = [o](DaemonClient& c) { return show(c, *o); }; });
}

}  // namespace dollhouse::ctl
