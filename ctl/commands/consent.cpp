// dollhousectl telemetry consent: shows what is collected and records the answer. Only an
// explicit "y" or "yes" is consent; an empty answer, anything else, or a standard input that
// is not a terminal records "no".

#include <iostream>
#include <string>

#include "ctl/commands/commands.hpp"
#include "ctl/platform.hpp"
#include "ipc/reasons.hpp"

namespace dollhouse::ctl {

using nlohmann::json;

std::string consent_box(const std::string& policy_version) {
  return "+------------------------------------------------------------------+\n"
         "|  DollhouseMCP telemetry                                          |\n"
         "+------------------------------------------------------------------+\n"
         "|  May we collect anonymous data to improve DollhouseMCP?          |\n"
         "|                                                                  |\n"
         "|  Collected, only with your consent:                              |\n"
         "|    + platform: OS and major version, architecture, Node.js       |\n"
         "|    + whether installs and updates succeed                        |\n"
         "|    + crash and error reports, with personal data removed         |\n"
         "|    + weekly feature counts (numbers only)                        |\n"
         "|                                                                  |\n"
         "|  Never collected:                                                |\n"
         "|    - names, e-mail addresses, user names, IP addresses, location |\n"
         "|    - your personas, skills, templates, memories or other content |\n"
         "|    - commands you run or detailed activity logs                  |\n"
         "|                                                                  |\n"
         "|  See every event before it is sent:  dollhousectl telemetry show |\n"
         "|  Change your mind at any time:    dollhousectl telemetry disable |\n"
         "|  Privacy policy " +
         policy_version + std::string(49 - std::min<std::size_t>(policy_version.size(), 48), ' ') +
         "|\n"
         "+------------------------------------------------------------------+\n";
}

namespace {

int ask(DaemonClient& client) {
  auto hello =
      client.request("hello", {{"app", "dollhousectl"}, {"appVersion", DOLLHOUSE_VERSION}});
  if (!hello) return report_failure(hello.status());
  if (!hello->value("ok", false)) return report_error_reply(*hello);
  std::string policy = (*hello)["consent"].value(ipc::field::kCurrentPolicyVersion, "1.0");
  std::cout << consent_box(policy);
  bool yes = false;
  if (platform::stdin_is_terminal()) {
    std::cout << "Share anonymous telemetry? [y/N] " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    for (auto& c : answer) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    yes = answer == "y" || answer == "yes";
  } else {
    std::cout << "No answer possible (standard input is not a terminal): recording \"no\".\n";
  }
  json fields = {{"enabled", yes}};
  if (yes) fields[ipc::field::kPolicyVersion] = policy;
  auto reply = client.request("consent", fields);
  if (!reply) return report_failure(reply.status());
  if (!reply->value("ok", false)) return report_error_reply(*reply);
  if (client.options().json) {
    std::cout << (*reply)["consent"].dump(2) << "\n";
  } else if (yes) {
    std::cout << "Thank you: telemetry is on. See it with: dollhousectl telemetry show\n";
  } else {
    std::cout << "Telemetry stays off. Turn it on later with: dollhousectl telemetry enable\n";
  }
  return kExitOk;
}

}  // namespace

void add_consent_command(CLI::App& parent, GlobalOptions& global, Action& run) {
  auto* cmd = parent.add_subcommand("consent", "Explain what is collected and ask for consent");
  cmd->add_flag("--json", global.json, "Print the recorded consent as JSON");
  cmd->callback([&run] { run = ask; });
}

}  // namespace dollhouse::ctl
