// Internal to common/environment*.cpp: the parts of path resolution that differ by platform,
// implemented in environment_posix.cpp and environment_windows.cpp. Safe from any thread.
#pragma once

#include <optional>
#include <string>

#include "common/environment.hpp"
#include "common/status.hpp"

namespace dollhouse::detail {

// A variable counts as set when it is present and not empty.
inline bool is_set(const std::optional<std::string>& v) {
  return v.has_value() && !v->empty();
}

// The data root when neither --home nor DOLLHOUSE_HOME names one: ~/.dollhouse (HOME, else the
// passwd entry) on POSIX, %USERPROFILE%\.dollhouse on Windows. Errors: "no_home".
Result<std::string> default_data_root(const EnvLookup& env);

// The socket path when neither --socket nor DOLLHOUSE_TELEMETRY_SOCKET names one (see
// resolve_socket_path).
std::string default_socket_path(const EnvLookup& env, const std::string& data_root);

}  // namespace dollhouse::detail
