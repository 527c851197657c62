// The connection limit against a real daemon: idle connections never keep the user's own
// controls out; the least recently active connection makes room first.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
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
    // LineConnection waits out a full listen backlog itself.
    auto client = std::make_unique<TestClient>(h.socket());
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
  // Each status is a round trip through the daemon's loop, which accepts in between.
  bool all_accepted = false;
  for (int i = 0; i < 1000 && !all_accepted; ++i) {
    json s = first->request({{"op", "status"}});
    all_accepted = s["daemon"]["connections"] == daemon::kMaxConnections;
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
