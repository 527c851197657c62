#include "common/environment.hpp"

#ifdef _WIN32
#include <process.h>

#include "common/win32.hpp"
#else
#include <pwd.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <array>
#include <cstdlib>
#include <vector>

namespace dollhouse {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool is_set(const std::optional<std::string>& v) {
  return v.has_value() && !v->empty();
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
#ifdef _WIN32
    return win32::environment_variable(name);
#else
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
#endif
  };
}

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
  std::string home;
#ifdef _WIN32
  if (auto v = env("USERPROFILE"); is_set(v)) home = *v;
  if (home.empty()) {
    return Status::error("no_home",
                         "cannot find the profile directory: set USERPROFILE or DOLLHOUSE_HOME, "
                         "or pass --home DIR");
  }
  if (home.back() == '\\' || home.back() == '/') home.pop_back();
  return home + "\\.dollhouse";
#else
  if (auto v = env("HOME"); is_set(v)) {
    home = *v;
  } else {
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* found = nullptr;
    if (getpwuid_r(getuid(), &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr &&
        found->pw_dir != nullptr) {
      home = found->pw_dir;
    }
  }
  if (home.empty()) {
    return Status::error("no_home",
                         "cannot find the home directory: set HOME or DOLLHOUSE_HOME, or pass "
                         "--home DIR");
  }
  if (home.back() == '/') home.pop_back();
  return home + "/.dollhouse";
#endif
}

std::string resolve_socket_path(const std::optional<std::string>& flag, const EnvLookup& env,
                                const std::string& data_root) {
  if (flag && !flag->empty()) return *flag;
  if (auto v = env("DOLLHOUSE_TELEMETRY_SOCKET"); is_set(v)) return *v;
#ifdef _WIN32
  (void)data_root;
  auto sid = win32::current_user_sid();
  return pipe_name_for_sid(sid ? *sid : env("USERNAME").value_or("unknown"));
#else
  if (auto v = env("XDG_RUNTIME_DIR"); is_set(v) && (*v)[0] == '/') {
    return *v + "/dollhouse/telemetry.sock";
  }
  return data_root + "/run/telemetry.sock";
#endif
}

std::string pipe_name_for_sid(const std::string& sid) {
  return "\\\\.\\pipe\\dollhouse-telemetry-" + sid;
}

int current_process_id() {
#ifdef _WIN32
  return ::_getpid();
#else
  return static_cast<int>(::getpid());
#endif
}

std::string detect_ci(const EnvLookup& env) {
  // Variables that CI systems set and that people do not set by hand on a workstation.
  static constexpr std::array<const char*, 16> kCiVariables = {"CI",
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
  for (const char* name : kCiVariables) {
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
