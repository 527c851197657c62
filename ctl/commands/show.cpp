// dollhousectl telemetry show [--limit N] [--since TIME] [--json]
#include <iostream>

#include "ctl/commands/commands.hpp"
#include "ctl/format.hpp"

namespace dollhouse::ctl {

using nlohmann::json;

namespace {

struct ShowOptions {
  std::int64_t limit = 20;
  std::string since;
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
    std::cout << "No events in the local log.\n"
                 "Nothing is collected before you consent (dollhousectl telemetry status).\n";
    return kExitOk;
  }
  SystemTime now = SystemClock::instance().now();
  std::cout << "Newest first (" << entries.size() << "). Full content: --json\n";
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
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{10000}))
      ->capture_default_str();
  cmd->add_option("--since", o->since, "Only entries since this UTC time (2026-11-01T00:00:00Z)")
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            SystemTime t;
            return parse_iso8601(value, t) ? std::string()
                                           : "expected a UTC time such as 2026-11-01T00:00:00Z";
          },
          "TIME"));
  cmd->add_flag("--json", global.json, "Print the entries as JSON (TelemetryLog objects)");
  cmd->callback([&run, o] { run = [o](DaemonClient& c) { return show(c, *o); }; });
}

}  // namespace dollhouse::ctl
