#include "ctl/consent_box.hpp"

#include <filesystem>

#include "ctl/platform.hpp"

namespace dollhouse::ctl {

using nlohmann::json;

namespace {

constexpr std::size_t kInner = 66;  // characters between the borders

std::string installed_policy_file() {
  const std::string dir = platform::own_directory();
  if (dir.empty()) return "";
  std::error_code ec;
  auto path = std::filesystem::path(dir) / ".." / "share" / "doc" / "dollhouse-telemetry" /
              "privacy-policy.md";
  if (!std::filesystem::is_regular_file(path, ec)) return "";
  auto canonical = std::filesystem::weakly_canonical(path, ec);
  return ec ? path.string() : canonical.string();
}

// Splits `text` into lines of at most `width`, at spaces where it can.
std::vector<std::string> wrap(const std::string& text, std::size_t width) {
  std::vector<std::string> out;
  std::string rest = text;
  while (rest.size() > width) {
    std::size_t cut = rest.rfind(' ', width);
    if (cut == std::string::npos || cut == 0) cut = width;
    out.push_back(rest.substr(0, cut));
    rest = rest.substr(cut);
    if (!rest.empty() && rest.front() == ' ') rest.erase(0, 1);
  }
  out.push_back(rest);
  return out;
}

class Box {
 public:
  void rule() { text_ += "+" + std::string(kInner, '-') + "+\n"; }
  void blank() { line(""); }
  // One logical line: `indent` spaces, then `text`, wrapped under the indent.
  void line(const std::string& text, std::size_t indent = 2, std::size_t hang = 0) {
    bool first = true;
    for (const auto& part : wrap(text, kInner - indent - hang - 1)) {
      std::string body = std::string(indent + (first ? 0 : hang), ' ') + part;
      if (body.size() < kInner) body += std::string(kInner - body.size(), ' ');
      text_ += "|" + body + "|\n";
      first = false;
    }
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

}  // namespace

std::string url_host(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  std::string rest = url.substr(scheme + 3);
  auto end = rest.find_first_of("/?#");
  std::string authority = rest.substr(0, end);
  if (auto at = authority.rfind('@'); at != std::string::npos) authority.erase(0, at + 1);
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    return close == std::string::npos ? authority : authority.substr(0, close + 1);
  }
  return authority.substr(0, authority.find(':'));
}

BoxFacts box_facts(const json& status, const std::string& app) {
  BoxFacts f;
  const json& consent = status.value("consent", json::object());
  f.policy_version = consent.value(ipc::field::kCurrentPolicyVersion, "1.0");
  if (!app.empty()) {
    f.apps.push_back(app);
  } else {
    // Every app status lists: seen since the daemon started, with events stored, or with a
    // setting of its own.
    for (const auto& a : status.value(ipc::field::kApps, json::array())) {
      f.apps.push_back(a.value("name", ""));
    }
  }
  f.endpoint_host = url_host(status.value("upload", json::object()).value("endpoint", ""));
  f.policy_file = installed_policy_file();
  return f;
}

std::string describe_choice(ipc::ConsentAnswer answer, bool valid, bool app_off, bool nothing_on,
                            const std::string& app, const std::string& answered_at) {
  const std::string when = answered_at.empty() ? "" : " on " + answered_at.substr(0, 10);
  switch (answer) {
    case ipc::ConsentAnswer::kNotAnswered:
      return "";
    case ipc::ConsentAnswer::kDeclined:
      return "you declined" + when + ": nothing is collected";
    case ipc::ConsentAnswer::kWithdrawn:
      return "you said yes, then turned it off" + when + ": nothing is collected";
    case ipc::ConsentAnswer::kGiven:
      if (!valid) return "you said yes" + when + " to an older policy: nothing is collected";
      if (app_off) return "on, but switched off for " + app;
      if (nothing_on) {
        return "you said yes" + when +
               ", but every category is off (level off): nothing is "
               "collected";
      }
      return "on: you said yes" + when;
  }
  return "";
}

std::string consent_box(const BoxFacts& f) {
  Box box;
  box.rule();
  box.line("Anonymous telemetry (Dollhouse Telemetry)");
  box.rule();
  if (f.apps.empty()) {
    box.line(
        "For: every app on this machine that uses Dollhouse Telemetry (none has reported "
        "yet)",
        2, 5);
  } else {
    std::string names;
    for (const auto& n : f.apps) names += (names.empty() ? "" : ", ") + n;
    box.line("For: " + names, 2, 5);
  }
  box.line("May they collect anonymous data to help their makers fix what breaks?");
  box.blank();
  box.line("Collected, only with your consent:");
  box.line("+ platform: OS and major version, architecture, Node.js", 4);
  box.line("+ whether installs and updates succeed", 4);
  box.line("+ crash and error reports, with personal data removed", 4);
  box.line("+ weekly feature counts (numbers only)", 4);
  box.blank();
  box.line("Never collected:");
  box.line("- names, e-mail addresses, user names, IP addresses, location", 4);
  box.line("- your files, prompts, personas or other content", 4);
  box.line("- commands you run or detailed activity logs", 4);
  box.blank();
  box.line("Sent to: " +
               (f.endpoint_host.empty() ? std::string("(no server configured)") : f.endpoint_host),
           2, 9);
  box.line(
      "Identified only by a random installation ID, made when you say yes and replaced when "
      "you ask the server to delete your data.");
  box.blank();
  box.line("See every event before it is sent:  dollhousectl telemetry show");
  box.line("Change your mind at any time:    dollhousectl telemetry disable");
  box.line("Privacy policy " + f.policy_version + ": " + kPrivacyPolicyUrl, 2, 4);
  if (!f.policy_file.empty()) box.line("also installed at " + f.policy_file, 4, 2);
  if (!f.current.empty()) {
    box.blank();
    box.line("Your current choice: " + f.current, 2, 4);
  }
  box.rule();
  return box.text();
}

}  // namespace dollhouse::ctl
