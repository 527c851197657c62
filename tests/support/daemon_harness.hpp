// A real dollhouse-telemetryd for integration tests: its own data root and socket in a temp
// directory, started as a child process, stopped with SIGTERM or killed with SIGKILL, and
// clients that speak protocol v1 over the real socket.
//
// One harness per test; not thread-safe, but TestClients may be used from several threads
// (one client per thread).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ipc/unix_socket.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace dollhouse::testing {

class TestClient {
 public:
  explicit TestClient(const std::string& socket_path);
  bool connected() const { return conn_.is_open(); }
  // Sends one request with a fresh id and returns its reply (null json on timeout/close).
  nlohmann::json request(nlohmann::json body,
                         std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Sends without waiting (fire-and-forget ops, or ids chosen by the test).
  bool send(const nlohmann::json& body);
  bool send_raw(const std::string& bytes);
  // The next line from the daemon as JSON (null on timeout/close/garbage).
  nlohmann::json read(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // hello as app "itest" 1.2.3; returns the reply.
  nlohmann::json hello(const std::string& app = "itest");
  ipc::LineConnection& connection() { return conn_; }

 private:
  ipc::LineConnection conn_;
  std::int64_t next_id_ = 1000;
};

class DaemonHarness {
 public:
  DaemonHarness();
  ~DaemonHarness();

  // Starts the daemon with base_env plus `extra` and extra command-line arguments; true once it
  // listens. Unless `extra` names one, the ingestion URL is a loopback port where nothing
  // listens, so no test ever sends anything off the machine.
  bool start(const Env& extra = {}, const std::vector<std::string>& args = {});
  // SIGTERM and the exit code (nullopt if it did not exit in time).
  std::optional<int> stop();
  void kill9();
  ChildProcess* process() { return daemon_.get(); }

  TestClient client() const { return TestClient(socket_); }
  // Runs dollhousectl with --home/--socket of this daemon.
  RunResult ctl(std::vector<std::string> args, const Env& extra = {},
                const std::string& input = "") const;
  // Consent through the protocol, as `dollhousectl telemetry enable` does.
  nlohmann::json enable(const nlohmann::json& extra = nlohmann::json::object()) const;
  nlohmann::json status() const;
  // The local log, newest first (show op).
  nlohmann::json entries(int limit = 10000) const;

  Env env(const Env& extra = {}) const;
  const std::string& root() const { return root_; }
  const std::string& socket() const { return socket_; }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  std::string root_, socket_, home_;
  std::unique_ptr<ChildProcess> daemon_;
};

}  // namespace dollhouse::testing
