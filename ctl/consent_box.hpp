// The consent box dollhousectl shows: what is collected and what never is, for which apps, where
// it goes, how the installation is identified, where the whole privacy policy is, and the
// user's current answer. It names only the apps the daemon has seen (or the one asked about),
// never a fixed one.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ipc/reasons.hpp"

namespace dollhouse::ctl {

// The privacy policy on the web; the installed copy is found next to the programs.
inline constexpr const char* kPrivacyPolicyUrl = "https://dollhousemcp.com/privacy/telemetry";

struct BoxFacts {
  std::string policy_version;
  std::vector<std::string> apps;  // empty: none has said hello yet
  std::string endpoint_host;
  std::string policy_file;  // the installed privacy policy, "" when not installed
  std::string current;      // the user's answer in words, "" before any
};

// From a status reply; `app` (from --app) replaces the list of apps seen.
BoxFacts box_facts(const nlohmann::json& status, const std::string& app);

// "yes, given 2026-11-30T12:00:00Z", "declined ...", "withdrawn ...", "" when not answered.
// `nothing_on`: consent was given with every category off (level off).
std::string describe_choice(ipc::ConsentAnswer answer, bool valid, bool app_off, bool nothing_on,
                            const std::string& app, const std::string& answered_at);

// The host of an http(s) URL ("" when it has none).
std::string url_host(const std::string& url);

// The box, lines padded to one width, long values wrapped.
std::string consent_box(const BoxFacts& facts);

}  // namespace dollhouse::ctl
