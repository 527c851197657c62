#include "tests/support/daemon_harness.hpp"

#include "tests/support/endpoints.hpp"

#include <signal.h>
#include <sys/stat.h>

#include "ipc/protocol.hpp"

namespace dollhouse::testing {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

TestClient::TestClient(const std::string& socket_path) {
  auto conn =
      ipc::LineConnection::connect(socket_path, SteadyClock::now() + std::chrono::seconds(5));
  if (conn) conn_ = std::move(conn.value());
}

bool TestClient::send_raw(const std::string& bytes) {
  return static_cast<bool>(conn_.send(bytes, SteadyClock::now() + std::chrono::seconds(20)));
}

bool TestClient::send(const json& body) {
  json b = body;
  if (!b.contains("v")) b["v"] = ipc::kProtocolVersion;
  return send_raw(b.dump() + "\n");
}

json TestClient::read(std::chrono::milliseconds timeout) {
  auto line = conn_.read_line(SteadyClock::now() + timeout);
  if (!line) return nullptr;
  json j = json::parse(*line, nullptr, false);
  return j.is_discarded() ? json() : j;
}

json TestClient::request(json body, std::chrono::milliseconds timeout) {
  std::int64_t id = next_id_++;
  body["id"] = id;
  if (!send(body)) return nullptr;
  auto deadline = SteadyClock::now() + timeout;
  while (SteadyClock::now() < deadline) {
    json reply =
        read(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()));
    if (reply.is_null()) return nullptr;
    if (reply.value("id", json()) == json(id)) return reply;
  }
  return nullptr;
}

json TestClient::hello(const std::string& app) {
  return request({{"op", "hello"},
                  {"app", app},
                  {"appVersion", "1.2.3"},
                  {"nodeVersion", "20.10.1"},
                  {"mcpClient", "claude-code"}});
}

DaemonHarness::DaemonHarness()
    : root_(dir_.file("root")),
      socket_(dir_.file("run/telemetry.sock")),
      home_(dir_.file("home/dhtester")) {
  // A home directory shaped like a real one, so the scrubber has a user name to remove.
  ::mkdir(dir_.file("home").c_str(), 0755);
  ::mkdir(home_.c_str(), 0700);
}

DaemonHarness::~DaemonHarness() {
  if (daemon_) {
    daemon_->signal(SIGKILL);
    daemon_->wait(std::chrono::seconds(30));
  }
}

Env DaemonHarness::env(const Env& extra) const {
  Env e = base_env(home_);
  for (const auto& [k, v] : extra) e[k] = v;
  return e;
}

bool DaemonHarness::start(const Env& extra, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {build_bin("dollhouse-telemetryd"),
                                   "--home",
                                   root_,
                                   "--socket",
                                   socket_,
                                   "--log-level",
                                   "debug"};
  argv.insert(argv.end(), args.begin(), args.end());
  Env e = env(extra);
  if (e.count("DOLLHOUSE_TELEMETRY_ENDPOINT") == 0) {
    e["DOLLHOUSE_TELEMETRY_ENDPOINT"] = kRefusedEndpoint;
  }
  daemon_ = std::make_unique<ChildProcess>(argv, e);
  return daemon_->wait_for_output("listening on", std::chrono::seconds(30));
}

std::optional<int> DaemonHarness::stop() {
  if (!daemon_) return std::nullopt;
  daemon_->signal(SIGTERM);
  return daemon_->wait(std::chrono::seconds(30));
}

void DaemonHarness::kill9() {
  if (!daemon_) return;
  daemon_->signal(SIGKILL);
  daemon_->wait(std::chrono::seconds(30));
}

RunResult DaemonHarness::ctl(std::vector<std::string> args, const Env& extra,
                             const std::string& input) const {
  std::vector<std::string> argv = {build_bin("dollhousectl"), "--home", root_, "--socket", socket_};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, env(extra), input);
}

json DaemonHarness::enable(const json& extra) const {
  json body = {{"op", "consent"}, {"enabled", true}};
  for (const auto& [k, v] : extra.items()) body[k] = v;
  return client().request(body);
}

json DaemonHarness::status() const {
  return client().request({{"op", "status"}});
}

json DaemonHarness::entries(int limit) const {
  json reply = client().request({{"op", "show"}, {"limit", limit}});
  return reply.is_object() ? reply.value("entries", json::array()) : json::array();
}

}  // namespace dollhouse::testing
