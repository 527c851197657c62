// The connection limit against a real daemon: idle connections never keep the user's own
// controls out; the least recently active connection makes room first.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "daemon/settings.hpp"
#include "tests/support/daemon_harness.hpp"

namespace dollhouse::testing {
namespace {

using nlohmann::json;

// Connections that connect and then say nothing.
std::vector<std::unique_ptr<TestClient>> open_idle(const DaemonHarness& h, std::size_t n) {
  std::vector<std::unique_ptr<TestClient>> clients;
  for (std::size_t i = 0; i < n; ++i) {
    // A connect the listen backlog cannot take yet is tried again once the daemon caught up.
    auto client = std::make_unique<TestClient>(h.socket());
    for (int attempt = 0; attempt < 500 && !client->connected(); ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      client = std::make_unique<TestClient>(h.socket());
    }
    EXPECT_TRUE(client->connected()) << "connection " << i;
    clients.push_back(std::move(client));
  }
  return clients;
}

TEST(ConnectionLimit, IdleConnectionsNeverLockOutStatus) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  auto idle = open_idle(h, daemon::kMaxConnections + 40);
  for (int attempt = 0; attempt < 5; ++attempt) {
    RunResult r = h.ctl({"telemetry", "status", "--json"});
    ASSERT_EQ(r.exit_code, 0) << "attempt " << attempt << ": " << r.err;
  }
  json status = h.status();
  ASSERT_TRUE(status.value("ok", false)) << status.dump();
  EXPECT_GE(status["counters"].value("connections.closed_for_room", 0), 40) << status.dump();
  EXPECT_LE(status["daemon"]["connections"].get<int>(), static_cast<int>(daemon::kMaxConnections));
}

TEST(ConnectionLimit, TheLeastRecentlyActiveConnectionMakesRoomFirst) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  auto first = std::make_unique<TestClient>(h.socket());
  ASSERT_FALSE(first->hello().is_null());
  auto idle = open_idle(h, daemon::kMaxConnections - 1);
  // The first one talks again (until the daemon has accepted every connection): now the
  // second-oldest is the least recently active.
  bool all_accepted = false;
  for (int i = 0; i < 200 && !all_accepted; ++i) {
    json s = first->request({{"op", "status"}});
    all_accepted = s["daemon"]["connections"] == daemon::kMaxConnections;
    if (!all_accepted) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(all_accepted);
  TestClient newcomer(h.socket());
  json reply = newcomer.request({{"op", "status"}});
  ASSERT_TRUE(reply.value("ok", false)) << reply.dump();
  EXPECT_TRUE(idle.front()->read(std::chrono::seconds(10)).is_null())
      << "the oldest idle connection was closed";
  EXPECT_TRUE(first->request({{"op", "sync"}}).value("ok", false))
      << "the recently active one is still served";
}

}  // namespace
}  // namespace dollhouse::testing
