// One app's connection as a command sees it: who the app is (its hello), what this connection
// has had kept or dropped (reported by `sync`), and where its replies go.
//
// Session implements it over a socket or pipe; unit tests implement it over a list of lines,
// so every command runs without a socket. Used on the daemon's I/O thread only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ipc/reasons.hpp"

namespace dollhouse::daemon {

// What the app said about itself in `hello`.
struct AppInfo {
  bool known = false;
  std::string app;
  std::string app_version;
  std::string node_version;  // major.minor or empty
  std::string mcp_client;    // normalised enum value
};

class Connection {
 public:
  virtual ~Connection() = default;

  // Replies to a request: nothing when the request had no id and `always` is false (a
  // fire-and-forget track or usage).
  void reply_ok(const nlohmann::json& id, nlohmann::json fields, bool always = true);
  void reply_error(const nlohmann::json& id, ipc::ErrorCode code, std::string_view message,
                   bool always = true, nlohmann::json extra = nullptr);

  // A request went to the storage thread or the uploader / came back from it. The connection
  // uses these for backpressure and to stay open until every reply it owes is written.
  virtual void begin_storage_request() = 0;
  virtual void end_storage_request() = 0;

  AppInfo app;
  // Cumulative for this connection, reported by `sync`.
  std::int64_t accepted = 0;
  std::int64_t dropped = 0;

 protected:
  // Queues one reply line (with its newline) for the app.
  virtual void send(std::string line) = 0;
};

// Ends a storage request when the scope ends, so the reply written inside the scope is queued
// before the connection may decide it owes nothing more and close.
class EndStorageRequestOnExit {
 public:
  explicit EndStorageRequestOnExit(Connection& connection, bool active = true)
      : connection_(connection), active_(active) {}
  ~EndStorageRequestOnExit() {
    if (active_) connection_.end_storage_request();
  }
  EndStorageRequestOnExit(const EndStorageRequestOnExit&) = delete;
  EndStorageRequestOnExit& operator=(const EndStorageRequestOnExit&) = delete;

 private:
  Connection& connection_;
  bool active_;
};

}  // namespace dollhouse::daemon
