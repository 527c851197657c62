// dollhousectl telemetry enable [--only-crashes|--only-installations|--no-performance|--level L]
#include <iostream>
#include <string>
#include <string_view>

#include "ctl/commands/commands.hpp"
#include "ipc/reasons.hpp"
#include "privacy/vocabulary.hpp"

namespace dollhouse::ctl {

using nlohmann::json;

namespace {

struct EnableOptions {
  bool only_crashes = false;
  bool only_installations = false;
  bool no_performance = false;
  std::string level;
};

// The categories the narrowing flags name.
constexpr std::string_view kCrash = "crash";
constexpr std::string_view kInstallation = "installation";
constexpr std::string_view kPerformance = "performance";
static_assert(privacy::is_category(kCrash) && privacy::is_category(kInstallation) &&
              privacy::is_category(kPerformance));

// Every category on, then narrowed by the flags.
json categories_for(const EnableOptions& o) {
  const bool only = o.only_crashes || o.only_installations;
  json all = json::object();
  for (std::string_view name : privacy::kCategories) {
    bool on = !only || (o.only_crashes && name == kCrash) ||
              (o.only_installations && name == kInstallation);
    if (o.no_performance && name == kPerformance) on = false;
    all[std::string(name)] = on;
  }
  return all;
}

int enable(DaemonClient& client, const EnableOptions& o) {
  json fields = {{"enabled", true}};
  if (!o.level.empty()) {
    fields["level"] = o.level;
  } else {
    fields["categories"] = categories_for(o);
  }
  auto reply = client.request("consent", fields);
  if (!reply) return report_failure(reply.status());
  if (!reply->value("ok", false)) return report_error_reply(*reply);
  if (client.options().json) {
    std::cout << (*reply)["consent"].dump(2) << "\n";
    return kExitOk;
  }
  const json& consent = (*reply)["consent"];
  std::string on;
  for (const auto& [name, value] : consent["categories"].items()) {
    if (value.get<bool>()) on += (on.empty() ? "" : ", ") + name;
  }
  std::cout << "Telemetry enabled under privacy policy "
            << consent.value(ipc::field::kPolicyVersion, "") << ". Thank you.\n"
            << "Collecting: " << (on.empty() ? "nothing (every category is off)" : on) << "\n";
  if (!consent["overriddenBy"].is_null()) {
    std::cout << "Note: " << consent["overriddenBy"].get<std::string>()
              << " is set for the daemon, so nothing is collected until it is unset and the "
                 "daemon restarted.\n";
  }
  std::cout << "See every event: dollhousectl telemetry show    Turn off: dollhousectl "
               "telemetry disable\n";
  return kExitOk;
}

}  // namespace

void add_enable_command(CLI::App& parent, GlobalOptions& global, Action& run) {
  auto o = std::make_shared<EnableOptions>();
  auto* cmd = parent.add_subcommand("enable", "Give consent and turn telemetry on");
  auto* crashes = cmd->add_flag("--only-crashes", o->only_crashes, "Collect crash reports only");
  auto* installs = cmd->add_flag("--only-installations", o->only_installations,
                                 "Collect installation events only");
  cmd->add_flag("--no-performance", o->no_performance, "Leave out performance timings");
  auto* level = cmd->add_option("--level", o->level, "all, error (crashes and errors), crash, off")
                    ->check(CLI::IsMember({"all", "error", "crash", "off"}));
  crashes->excludes(installs);
  level->excludes(crashes)->excludes(installs);
  cmd->add_flag("--json", global.json, "Print the resulting consent as JSON");
  cmd->callback([&run, o] { run = [o](DaemonClient& c) { return enable(c, *o); }; });
}

}  // namespace dollhouse::ctl
