// The platform-free part of path resolution and the kill switches; the defaults that differ by
// platform are in environment_posix.cpp and environment_windows.cpp.
#include "common/environment.hpp"

#include <algorithm>
#include <cctype>

#include "common/environment_internal.hpp"

namespace dollhouse {
namespace {

using detail::is_set;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

EnvLookup map_env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

Result<std::string> resolve_data_root(const std::optional<std::string>& flag,
                                      const EnvLookup& env) {
  if (flag && !flag->empty()) return *flag;
  if (auto v = env("DOLLHOUSE_HOME"); is_set(v)) return *v;
  return detail::default_data_root(env);
}

std::string resolve_socket_path(const std::optional<std::string>& flag, const EnvLookup& env,
                                const std::string& data_root) {
  if (flag && !flag->empty()) return *flag;
  if (auto v = env("DOLLHOUSE_TELEMETRY_SOCKET"); is_set(v)) return *v;
  return detail::default_socket_path(env, data_root);
}

std::string pipe_name_for_sid(const std::string& sid) {
  return "\\\\.\\pipe\\dollhouse-telemetry-" + sid;
}

const std::vector<std::string>& ci_variables() {
  // Variables that CI systems set and that people do not set by hand on a workstation.
  static const std::vector<std::string> k = {"CI",
                                             "CONTINUOUS_INTEGRATION",
                                             "GITHUB_ACTIONS",
                                             "GITLAB_CI",
                                             "BUILDKITE",
                                             "JENKINS_URL",
                                             "TF_BUILD",
                                             "CIRCLECI",
                                             "TRAVIS",
                                             "TEAMCITY_VERSION",
                                             "BITBUCKET_BUILD_NUMBER",
                                             "CODEBUILD_BUILD_ID",
                                             "DRONE",
                                             "APPVEYOR",
                                             "SEMAPHORE",
                                             "BUILD_BUILDID"};
  return k;
}

const std::vector<std::string>& kill_switch_variables() {
  static const std::vector<std::string> k = [] {
    std::vector<std::string> names = {"DO_NOT_TRACK", "DOLLHOUSE_TELEMETRY"};
    for (const auto& ci : ci_variables()) names.push_back(ci);
    return names;
  }();
  return k;
}

std::string detect_ci(const EnvLookup& env) {
  for (const std::string& name : ci_variables()) {
    auto v = env(name);
    if (!is_set(v)) continue;
    std::string l = lower(*v);
    if (l == "0" || l == "false" || l == "no" || l == "off") continue;
    return name;
  }
  return {};
}

KillSwitch evaluate_kill_switches(const EnvLookup& env) {
  if (auto v = env("DO_NOT_TRACK"); is_set(v) && *v != "0") {
    return {true, "DO_NOT_TRACK", "DO_NOT_TRACK is set in the environment"};
  }
  std::string explicit_value;
  if (auto v = env("DOLLHOUSE_TELEMETRY"); is_set(v)) explicit_value = lower(*v);
  if (explicit_value == "false" || explicit_value == "0" || explicit_value == "off" ||
      explicit_value == "no") {
    return {true, "DOLLHOUSE_TELEMETRY", "DOLLHOUSE_TELEMETRY=" + explicit_value};
  }
  bool forced_on = explicit_value == "true" || explicit_value == "1" || explicit_value == "on" ||
                   explicit_value == "yes";
  if (!forced_on) {
    if (std::string ci = detect_ci(env); !ci.empty()) {
      return {true, "CI",
              "a CI environment was detected (" + ci +
                  " is set); set DOLLHOUSE_TELEMETRY=true to collect there"};
    }
  }
  return {};
}

}  // namespace dollhouse
