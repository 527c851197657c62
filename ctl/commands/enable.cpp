// dollhousectl telemetry enable [--only-crashes|--only-installations|--no-performance|--level L]
// dollhousectl telemetry enable --app NAME
#include <iostream>
#include <string>
#include <string_view>

#include "common/environment.hpp"
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
  std::string app;
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

// A kill switch in this shell silences the apps started from it, whatever the daemon does.
void note_kill_switch_here() {
  KillSwitch here = evaluate_kill_switches(process_env());
  if (!here.off) return;
  std::cout << "Note: " << here.detail
            << " in this shell, so apps started from here stay silent (their client library "
               "sends nothing); apps started elsewhere are not affected.\n";
}

int enable_app(DaemonClient& client, const std::string& app) {
  auto reply = client.request("consent", {{"enabled", true}, {ipc::field::kApp, app}});
  if (!reply) return report_failure(reply.status());
  if (!reply->value("ok", false)) return report_error_reply(*reply);
  if (client.options().json) {
    std::cout << reply->dump(2) << "\n";
    return kExitOk;
  }
  const json& consent = (*reply)["consent"];
  std::cout << "Telemetry for " << app << " is allowed again.\n";
  if (!consent.value("enabled", false)) {
    std::cout << "Telemetry itself is off, so nothing is collected from any app yet; turn it on "
                 "with: dollhousectl telemetry enable\n";
  }
  note_kill_switch_here();
  return kExitOk;
}

int enable(DaemonClient& client, const EnableOptions& o) {
  if (!o.app.empty()) return enable_app(client, o.app);
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
  if (on.empty()) {
    std::cout << "Consent recorded under privacy policy "
              << consent.value(ipc::field::kPolicyVersion, "")
              << ", but every category is off (level off): nothing is collected.\n"
              << "Choose what to share with: dollhousectl telemetry enable --level all (or "
                 "error, crash)\n";
  } else {
    std::cout << "Telemetry enabled under privacy policy "
              << consent.value(ipc::field::kPolicyVersion, "") << ". Thank you.\n"
              << "Collecting: " << on << "\n";
  }
  if (!consent["overriddenBy"].is_null()) {
    std::cout << "Note: " << consent["overriddenBy"].get<std::string>()
              << " is set for the daemon, so nothing is collected until it is unset and the "
                 "daemon restarted.\n";
  }
  note_kill_switch_here();
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
  auto* no_performance =
      cmd->add_flag("--no-performance", o->no_performance, "Leave out performance timings");
  auto* level = cmd->add_option("--level", o->level, "all, error (crashes and errors), crash, off")
                    ->check(CLI::IsMember({"all", "error", "crash", "off"}));
  auto* app = cmd->add_option("--app", o->app,
                              "Allow one app again (after disable --app); consent itself is "
                              "unchanged");
  crashes->excludes(installs);
  // A level names every category, performance included.
  level->excludes(crashes)->excludes(installs)->excludes(no_performance);
  app->excludes(crashes)->excludes(installs)->excludes(level);
  cmd->add_flag("--json", global.json, "Print the resulting consent as JSON");
  cmd->callback([&run, o] { run = [o](DaemonClient& c) { return enable(c, *o); }; });
}

}  // namespace dollhouse::ctl
