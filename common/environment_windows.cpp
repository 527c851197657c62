#include <process.h>

#include "common/environment.hpp"
#include "common/environment_internal.hpp"
#include "common/win32.hpp"

namespace dollhouse {

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    return win32::environment_variable(name);
  };
}

int current_process_id() {
  return ::_getpid();
}

namespace detail {

Result<std::string> default_data_root(const EnvLookup& env) {
  std::string home;
  if (auto v = env("USERPROFILE"); is_set(v)) home = *v;
  if (home.empty()) {
    return Status::error("no_home",
                         "cannot find the profile directory: set USERPROFILE or DOLLHOUSE_HOME, "
                         "or pass --home DIR");
  }
  if (home.back() == '\\' || home.back() == '/') home.pop_back();
  return home + "\\.dollhouse";
}

// The data root plays no part: the pipe namespace is global, so the name carries the user.
std::string default_socket_path(const EnvLookup& env, const std::string& /*data_root*/) {
  auto sid = win32::current_user_sid();
  return pipe_name_for_sid(sid ? *sid : env("USERNAME").value_or("unknown"));
}

}  // namespace detail
}  // namespace dollhouse
