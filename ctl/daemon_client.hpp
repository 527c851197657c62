// dollhousectl's connection to the daemon: resolves the socket like the daemon does, starts
// the daemon when it is not running (unless told not to) and reports at once why one could not
// start, sends one request and waits for its reply.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.hpp"
#include "ipc/line_connection.hpp"

namespace dollhouse::ctl {

// Exit codes of dollhousectl.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;

struct GlobalOptions {
  std::optional<std::string> home;
  std::optional<std::string> socket;
  bool no_start = false;
  bool json = false;
  // The subcommand chosen, e.g. {"telemetry", "status"}: repeated in hints to run it again.
  std::vector<std::string> command;
};

// A connection idle this long is opened again before the next request: the daemon closes idle
// connections after kIdleTimeout (10 minutes, daemon/session.hpp).
inline constexpr auto kReconnectAfterIdle = std::chrono::minutes(5);

class DaemonClient {
 public:
  explicit DaemonClient(GlobalOptions options) : options_(std::move(options)) {}

  // Connects, starting the daemon if needed. Errors carry code "unreachable" with a hint.
  Status connect();
  // Sends {"v":1,"op":op,"id":n,...fields} and returns the reply object (ok or not).
  Result<nlohmann::json> request(const std::string& op,
                                 nlohmann::json fields = nlohmann::json::object(),
                                 std::chrono::milliseconds timeout = std::chrono::seconds(30));

  const std::string& socket_path() const { return socket_path_; }
  const std::string& data_root() const { return data_root_; }
  const GlobalOptions& options() const { return options_; }

 private:
  Status resolve();
  Status start_daemon();
  // The --home and --socket flags that name this daemon, for a command to copy ("" by default).
  std::string location_flags() const;
  std::string start_hint() const;

  GlobalOptions options_;
  std::string data_root_;
  std::string socket_path_;
  bool home_given_ = false;    // by --home or DOLLHOUSE_HOME, not the default
  bool socket_given_ = false;  // by --socket or DOLLHOUSE_TELEMETRY_SOCKET
  ipc::LineConnection conn_;
  std::int64_t next_id_ = 1;
  std::chrono::steady_clock::time_point last_reply_ = std::chrono::steady_clock::now();
};

// Prints a failed reply or connection error and returns the matching exit code.
int report_failure(const Status& status);
int report_error_reply(const nlohmann::json& reply);

}  // namespace dollhouse::ctl
