#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "common/environment.hpp"
#include "common/environment_internal.hpp"

namespace dollhouse {

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

int current_process_id() {
  return static_cast<int>(::getpid());
}

namespace detail {

Result<std::string> default_data_root(const EnvLookup& env) {
  std::string home;
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
}

std::string default_socket_path(const EnvLookup& env, const std::string& data_root) {
  if (auto v = env("XDG_RUNTIME_DIR"); is_set(v) && (*v)[0] == '/') {
    return *v + "/dollhouse/telemetry.sock";
  }
  return data_root + "/run/telemetry.sock";
}

}  // namespace detail
}  // namespace dollhouse
