// dollhousectl telemetry consent [--app NAME]: shows what is collected, for which apps, where it
// goes and under which policy, and records the answer.
//
// The prompt never changes a choice by itself. When the user has answered before, the box shows
// that answer and asks whether to keep it: Enter, end of input or no terminal keep it. Before any
// answer only "y"/"yes" gives consent and "n"/"no" (or Enter, the default) declines; end of
// input or no terminal records nothing. An unclear answer asks again, at most three times.
#include <iostream>
#include <string>
#include <vector>

#include "ctl/commands/commands.hpp"
#include "ctl/consent_box.hpp"
#include "ctl/platform.hpp"
#include "ipc/reasons.hpp"

namespace dollhouse::ctl {

using ipc::ConsentAnswer;
using nlohmann::json;

namespace {

constexpr int kMaxQuestions = 3;

enum class Reply { kYes, kNo, kDefault, kNoAnswer };

// Asks `question` until the answer is clear, at most kMaxQuestions times. kDefault is Enter;
// kNoAnswer is end of input, no terminal, or every answer unclear.
Reply ask(const std::string& question) {
  if (!platform::stdin_is_terminal()) return Reply::kNoAnswer;
  for (int i = 0; i < kMaxQuestions; ++i) {
    std::cout << question << std::flush;
    std::string answer;
    if (!std::getline(std::cin, answer)) {
      std::cout << "\n";
      return Reply::kNoAnswer;
    }
    std::string word;
    for (char c : answer) {
      if (c != ' ' && c != '\t' && c != '\r') {
        word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      }
    }
    if (word.empty()) return Reply::kDefault;
    if (word == "y" || word == "yes") return Reply::kYes;
    if (word == "n" || word == "no") return Reply::kNo;
    std::cout << "Please answer y (yes) or n (no).\n";
  }
  return Reply::kNoAnswer;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

struct Current {
  ConsentAnswer answer = ConsentAnswer::kNotAnswered;
  bool valid = false;       // a yes for the current policy
  bool app_off = false;     // --app names an app the user switched off
  bool nothing_on = false;  // every category is off (level off)
  std::string policy;       // the daemon's current policy version
  std::string answered_at;
};

Current current_choice(const json& status, const std::string& app) {
  Current c;
  const json& consent = status["consent"];
  c.answer = ipc::parse_consent_answer(consent.value(ipc::field::kConsentState, ""))
                 .value_or(ConsentAnswer::kNotAnswered);
  c.valid = consent.value("valid", false);
  c.policy = consent.value(ipc::field::kCurrentPolicyVersion, "1.0");
  c.answered_at = consent["timestamp"].is_string() ? consent["timestamp"].get<std::string>() : "";
  c.nothing_on = status.value("level", "") == "off";
  if (!app.empty()) {
    for (const auto& a : status.value(ipc::field::kApps, json::array())) {
      if (a.value("name", "") == app) c.app_off = !a.value("enabled", true);
    }
  }
  return c;
}

int record(DaemonClient& client, json fields) {
  auto reply = client.request("consent", std::move(fields));
  if (!reply) return report_failure(reply.status());
  if (!reply->value("ok", false)) return report_error_reply(*reply);
  if (client.options().json) std::cout << (*reply)["consent"].dump(2) << "\n";
  if (reply->contains("warning")) {
    std::cerr << "dollhousectl: note: " << (*reply)["warning"].get<std::string>() << "\n";
  }
  if (std::int64_t n = reply->value(ipc::field::kDroppedUnsent, std::int64_t{0}); n > 0) {
    std::cout << "Deleted " << n << " queued event" << (n == 1 ? "" : "s")
              << " that had not been sent.\n";
  }
  return kExitOk;
}

int run_consent(DaemonClient& client, const std::string& app) {
  auto status = client.request("status");
  if (!status) return report_failure(status.status());
  if (!status->value("ok", false)) return report_error_reply(*status);
  const Current c = current_choice(*status, app);
  BoxFacts facts = box_facts(*status, app);
  facts.current = describe_choice(c.answer, c.valid, c.app_off, c.nothing_on, app, c.answered_at);
  std::cout << consent_box(facts);
  const std::string for_apps = joined(facts.apps);
  const bool has_choice =
      c.answer != ConsentAnswer::kNotAnswered && !(c.answer == ConsentAnswer::kGiven && !c.valid);

  if (!has_choice) {
    const std::string why = c.answer == ConsentAnswer::kGiven
                                ? "Your earlier yes was for policy " +
                                      status->at("consent").value(ipc::field::kPolicyVersion, "?") +
                                      "; the policy is now " + c.policy + ".\n"
                                : "";
    std::cout << why;
    Reply r = ask("Share anonymous telemetry" + (for_apps.empty() ? "" : " for " + for_apps) +
                  "? [y/N] ");
    if (r == Reply::kNoAnswer) {
      std::cout << (platform::stdin_is_terminal() ? "No clear answer"
                                                  : "No answer possible (standard input is not a "
                                                    "terminal)")
                << ": nothing recorded. Telemetry stays off until you answer: dollhousectl "
                   "telemetry consent\n";
      return kExitOk;
    }
    if (r == Reply::kYes) {
      int rc = record(client, {{"enabled", true}, {ipc::field::kPolicyVersion, c.policy}});
      if (rc == kExitOk && !app.empty() && c.app_off) {
        rc = record(client, {{"enabled", true}, {ipc::field::kApp, app}});
      }
      if (rc == kExitOk && !client.options().json) {
        std::cout << "Thank you: telemetry is on. See every event with: dollhousectl telemetry "
                     "show\n";
      }
      return rc;
    }
    int rc = record(client, {{"enabled", false}});
    if (rc == kExitOk && !client.options().json) {
      std::cout << "You declined: nothing is collected. Change your mind with: dollhousectl "
                   "telemetry enable\n";
    }
    return rc;
  }

  // The user has answered before: offer to keep that answer.
  const bool on = c.answer == ConsentAnswer::kGiven && !(c.app_off && !app.empty());
  const std::string subject = app.empty() ? "telemetry" : "telemetry for " + app;
  const std::string state = !on ? "off" : c.nothing_on ? "on with every category off" : "on";
  Reply r = ask("Keep " + subject + " " + state + "? [Y/n] ");
  if (r != Reply::kNo) {
    if (!client.options().json) {
      std::cout << "Kept your choice: " << subject << " stays " << state << ".\n";
      if (on && c.nothing_on) {
        std::cout << "Nothing is collected at level off; choose what to share with: "
                     "dollhousectl telemetry enable --level all\n";
      }
    }
    return kExitOk;
  }
  int rc = kExitOk;
  if (on) {
    rc = record(client, app.empty() ? json{{"enabled", false}}
                                    : json{{"enabled", false}, {ipc::field::kApp, app}});
  } else {
    if (c.answer != ConsentAnswer::kGiven) {
      rc = record(client, {{"enabled", true}, {ipc::field::kPolicyVersion, c.policy}});
    }
    if (rc == kExitOk && !app.empty() && c.app_off) {
      rc = record(client, {{"enabled", true}, {ipc::field::kApp, app}});
    }
  }
  if (rc == kExitOk && !client.options().json) {
    std::cout << "Changed: " << subject << " is now " << (on ? "off" : "on") << ".\n";
  }
  return rc;
}

}  // namespace

void add_consent_command(CLI::App& parent, GlobalOptions& global, Action& run) {
  auto app = std::make_shared<std::string>();
  auto* cmd = parent.add_subcommand(
      "consent", "Explain what is collected and ask for consent (or whether to keep your answer)");
  cmd->add_option("--app", *app, "Ask for this app (named in the box), also before it has run");
  cmd->add_flag("--json", global.json, "Print the recorded consent as JSON");
  cmd->callback([&run, app] { run = [app](DaemonClient& c) { return run_consent(c, *app); }; });
}

}  // namespace dollhouse::ctl
