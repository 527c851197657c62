// Where things live and which environment switches are in force.
//
// Every program resolves the data root and the socket path the same way (flag, then variable,
// then default), and the daemon and the client library read the kill switches the same way, so
// both live here. Environment access goes through an EnvLookup so tests can pass a fixed map.
// Functions here are pure apart from process_env(); safe from any thread.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.hpp"

namespace dollhouse {

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Reads the real process environment.
EnvLookup process_env();
// Reads a fixed map (tests).
EnvLookup map_env(std::map<std::string, std::string> vars);

// --home DIR, else DOLLHOUSE_HOME, else ~/.dollhouse (HOME, else the passwd entry); on Windows
// %USERPROFILE%\.dollhouse.
Result<std::string> resolve_data_root(const std::optional<std::string>& flag, const EnvLookup& env);

// --socket PATH, else DOLLHOUSE_TELEMETRY_SOCKET, else $XDG_RUNTIME_DIR/dollhouse/telemetry.sock
// when XDG_RUNTIME_DIR is an absolute path, else <root>/run/telemetry.sock. On Windows the
// default is the named pipe of the current user, pipe_name_for_sid(<user SID>).
std::string resolve_socket_path(const std::optional<std::string>& flag, const EnvLookup& env,
                                const std::string& data_root);

// \\.\pipe\dollhouse-telemetry-<sid>: the daemon's pipe for the user with that SID.
std::string pipe_name_for_sid(const std::string& sid);

// The state of the environment kill switches. When `off` is true nothing is collected, whatever
// the config says. `overridden_by` names the switch in force ("DO_NOT_TRACK",
// "DOLLHOUSE_TELEMETRY", "CI"), `detail` says why in words for a person.
struct KillSwitch {
  bool off = false;
  std::string overridden_by;
  std::string detail;
};

// DO_NOT_TRACK (any non-empty value but "0") wins; then DOLLHOUSE_TELEMETRY=false|0|off|no; then a
// detected CI environment, unless DOLLHOUSE_TELEMETRY=true|1|on|yes says otherwise.
KillSwitch evaluate_kill_switches(const EnvLookup& env);

// The id of this process (for messages and the daemon's status).
int current_process_id();

// The name of the CI variable that is set, or empty when none is.
std::string detect_ci(const EnvLookup& env);
// The CI variables detect_ci looks at.
const std::vector<std::string>& ci_variables();
// Every variable evaluate_kill_switches reads (DO_NOT_TRACK, DOLLHOUSE_TELEMETRY and the CI
// variables): what dollhousectl leaves out of the environment of a daemon it starts.
const std::vector<std::string>& kill_switch_variables();

}  // namespace dollhouse
