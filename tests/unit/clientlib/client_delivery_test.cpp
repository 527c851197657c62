// The client against a cooperative fake daemon: what goes on the wire, in which order, and
// when flush() may say "confirmed".
#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "dollhouse/telemetry.hpp"
#include "tests/support/fake_daemon.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/clientlib/client_test_support.hpp"

namespace dollhouse::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using telemetry::Client;

TEST(ClientDelivery, HelloIsSentFirstWithTheAppFields) {
  TempDir dir;
  FakeDaemon daemon(dir.endpoint("t.sock"));
  auto options = client_options(dir.endpoint("t.sock"));
  options.node_version = "20.10.1";
  options.mcp_client = "claude-code";
  Client client(options);
  ASSERT_TRUE(client.enabled());
  ASSERT_TRUE(client.track(telemetry::InstallationEvent{"npm", "new", ""}));
  ASSERT_TRUE(client.flush(5s));

  std::vector<std::string> lines = daemon.lines();
  ASSERT_GE(lines.size(), 3u);
  json hello = json::parse(lines[0]);
  EXPECT_EQ(hello["v"], 1);
  EXPECT_EQ(hello["op"], "hello");
  EXPECT_TRUE(hello["id"].is_number_integer());
  EXPECT_EQ(hello["app"], "dollhousemcp");
  EXPECT_EQ(hello["appVersion"], "1.9.16");
  EXPECT_EQ(hello["nodeVersion"], "20.10.1");
  EXPECT_EQ(hello["mcpClient"], "claude-code");
  json track = json::parse(lines[1]);
  EXPECT_EQ(track["op"], "track");
  EXPECT_EQ(track["event"]["eventType"], "installation");
  EXPECT_EQ(json::parse(lines[2])["op"], "sync");
}

TEST(ClientDelivery, EventsArriveInOrderAsTrackLinesWithoutId) {
  TempDir dir;
  FakeDaemon daemon(dir.endpoint("t.sock"));
  Client client(client_options(dir.endpoint("t.sock")));
  constexpr int kEvents = 200;
  for (int i = 0; i < kEvents; ++i) {
    ASSERT_TRUE(client.track_error(sample_failure("component-" + std::to_string(i))));
  }
  ASSERT_TRUE(client.flush(10s));

  std::vector<std::string> tracks = daemon.lines_with_op("track");
  ASSERT_EQ(tracks.size(), static_cast<std::size_t>(kEvents));
  for (int i = 0; i < kEvents; ++i) {
    json line = json::parse(tracks[static_cast<std::size_t>(i)]);
    EXPECT_FALSE(line.contains("id")) << "track is fire-and-forget";
    EXPECT_EQ(line["event"]["eventType"], "error");
    EXPECT_EQ(line["event"]["component"], "component-" + std::to_string(i));
  }
  auto stats = client.stats();
  EXPECT_EQ(stats.queued, static_cast<std::uint64_t>(kEvents));
  EXPECT_EQ(stats.delivered, static_cast<std::uint64_t>(kEvents));
  EXPECT_EQ(daemon.connections_accepted(), 1u) << "one connection carries everything";
}

TEST(ClientDelivery, EachTypedEventUsesItsEventType) {
  TempDir dir;
  FakeDaemon daemon(dir.endpoint("t.sock"));
  Client client(client_options(dir.endpoint("t.sock")));
  EXPECT_TRUE(client.track(telemetry::UpdateEvent{"1.9.15", "1.9.16", true, "", 1200}));
  EXPECT_TRUE(client.track_crash(sample_failure("MCPServer")));
  EXPECT_TRUE(client.track_json(R"({"eventType":"error","errorType":"runtime"})"));
  ASSERT_TRUE(client.flush(5s));
  std::vector<std::string> tracks = daemon.lines_with_op("track");
  ASSERT_EQ(tracks.size(), 3u);
  EXPECT_EQ(json::parse(tracks[0])["event"]["eventType"], "update");
  EXPECT_EQ(json::parse(tracks[0])["event"]["durationMs"], 1200);
  EXPECT_EQ(json::parse(tracks[1])["event"]["eventType"], "crash");
  EXPECT_EQ(json::parse(tracks[2])["event"]["errorType"], "runtime");
}

TEST(ClientDelivery, UsageIsSentAsCountersAndTimings) {
  TempDir dir;
  FakeDaemon daemon(dir.endpoint("t.sock"));
  Client client(client_options(dir.endpoint("t.sock")));
  telemetry::Usage usage;
  usage.counters["personasUsed"] = 3;
  usage.counters["sessions"] = 1;
  usage.timings_ms["startup"] = 640.0;
  ASSERT_TRUE(client.usage(usage));
  ASSERT_TRUE(client.flush(5s));
  std::vector<std::string> lines = daemon.lines_with_op("usage");
  ASSERT_EQ(lines.size(), 1u);
  json line = json::parse(lines[0]);
  EXPECT_EQ(line["counters"], (json{{"personasUsed", 3}, {"sessions", 1}}));
  EXPECT_EQ(line["timings"], (json{{"startup", 640.0}}));
}

TEST(ClientDelivery, TrackJsonThatIsNotAnObjectIsCountedInvalid) {
  TempDir dir;
  FakeDaemon daemon(dir.endpoint("t.sock"));
  Client client(client_options(dir.endpoint("t.sock")));
  EXPECT_FALSE(client.track_json("[1,2,3]"));
  EXPECT_FALSE(client.track_json("{not json"));
  EXPECT_FALSE(client.usage(telemetry::Usage{}));
  EXPECT_EQ(client.stats().dropped_invalid, 3u);
  EXPECT_EQ(client.stats().queued, 0u);
}

TEST(ClientDelivery, FlushReturnsTrueOnceTheSyncReplyArrives) {
  TempDir dir;
  FakeDaemon daemon(dir.endpoint("t.sock"));
  Client client(client_options(dir.endpoint("t.sock")));
  ASSERT_TRUE(client.track_crash(sample_failure("PortfolioManager")));
  ASSERT_TRUE(client.flush(5s));
  // Everything queued before flush() was on the wire before the sync that confirmed it.
  std::vector<std::string> lines = daemon.lines();
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(op_of(lines.back()), "sync");
  EXPECT_EQ(daemon.lines_with_op("track").size(), 1u);
  EXPECT_TRUE(client.flush(5s)) << "a second flush uses the same connection";
  EXPECT_EQ(daemon.connections_accepted(), 1u);
}

TEST(ClientDelivery, FlushReturnsFalseOnTimeoutWhenSyncIsNeverAnswered) {
  TempDir dir;
  FakeDaemonScript script;
  script.answer_sync = false;
  FakeDaemon daemon(dir.endpoint("t.sock"), script);
  Client client(client_options(dir.endpoint("t.sock")));
  ASSERT_TRUE(client.track_crash(sample_failure("PortfolioManager")));
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(client.flush(300ms));
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, 250ms) << "flush gave up before its timeout";
  EXPECT_LT(elapsed, 300ms + 3s);
  EXPECT_TRUE(daemon.wait_for_op_count("sync", 1, 5s));
  EXPECT_EQ(daemon.lines_with_op("track").size(), 1u);
}

TEST(ClientDelivery, ReconnectsAfterTheDaemonRestarts) {
  TempDir dir;
  const std::string path = dir.endpoint("t.sock");
  auto first = std::make_unique<FakeDaemon>(path);
  Client client(client_options(path));
  ASSERT_TRUE(client.track_error(sample_failure("before-restart")));
  ASSERT_TRUE(client.flush(5s));
  first->stop();

  // Restarted while the client was idle: the next event goes to the new daemon, not lost.
  FakeDaemon second(path);
  ASSERT_TRUE(client.track_error(sample_failure("after-restart")));
  ASSERT_TRUE(client.flush(5s));
  ASSERT_EQ(second.lines_with_op("hello").size(), 1u);
  std::vector<std::string> tracks = second.lines_with_op("track");
  ASSERT_EQ(tracks.size(), 1u);
  EXPECT_EQ(json::parse(tracks[0])["event"]["component"], "after-restart");

  // Down for a while: events are dropped and counted, then delivery resumes after backoff.
  second.stop();
  client.track_error(sample_failure("while-down"));
  EXPECT_FALSE(client.flush(2s));
  EXPECT_GE(client.stats().dropped_no_daemon, 1u);
  FakeDaemon third(path);
  bool delivered = false;
  auto give_up = std::chrono::steady_clock::now() + 10s;
  while (!delivered && std::chrono::steady_clock::now() < give_up) {
    // Retrying at the client's own pace: within backoff, events are refused at once.
    if (client.track_error(sample_failure("after-backoff"))) delivered = client.flush(2s);
    if (!delivered) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(delivered);
  EXPECT_GE(third.lines_with_op("hello").size(), 1u);
}

TEST(ClientDelivery, ABurstRightAfterADaemonRestartArrivesOnceEach) {
  TempDir dir;
  const std::string path = dir.endpoint("t.sock");
  auto first = std::make_unique<FakeDaemon>(path);
  Client client(client_options(path));
  ASSERT_TRUE(client.track_error(sample_failure("before-restart")));
  ASSERT_TRUE(client.flush(5s));
  first->stop();
  first.reset();

  // At once, on the connection the old daemon closed: the client finds out by writing, and
  // writes the same events again on a new connection.
  FakeDaemon second(path);
  constexpr int kEvents = 300;
  for (int i = 0; i < kEvents; ++i) {
    ASSERT_TRUE(client.track_error(sample_failure("burst-" + std::to_string(i))));
  }
  ASSERT_TRUE(client.flush(10s));
  std::vector<std::string> tracks = second.lines_with_op("track");
  ASSERT_EQ(tracks.size(), static_cast<std::size_t>(kEvents)) << "none lost, none twice";
  for (int i = 0; i < kEvents; ++i) {
    EXPECT_EQ(json::parse(tracks[static_cast<std::size_t>(i)])["event"]["component"],
              "burst-" + std::to_string(i));
  }
  auto stats = client.stats();
  EXPECT_EQ(stats.delivered, static_cast<std::uint64_t>(kEvents + 1));
  EXPECT_EQ(stats.dropped_no_daemon, 0u);
}

TEST(ClientDelivery, AnIdleConnectionIsCheckedBeforeUse) {
  TempDir dir;
  const std::string path = dir.endpoint("t.sock");
  FakeDaemon daemon(path);
  Client client(client_options(path));
  ASSERT_TRUE(client.track_error(sample_failure("first")));
  ASSERT_TRUE(client.flush(5s));
  // Longer than the client's idle probe interval: the next event is preceded by a probe of the
  // open connection, which still lives, so it goes on the same connection.
  std::this_thread::sleep_for(400ms);
  ASSERT_TRUE(client.track_error(sample_failure("second")));
  ASSERT_TRUE(client.flush(5s));
  EXPECT_EQ(daemon.lines_with_op("track").size(), 2u);
  EXPECT_EQ(daemon.connections_accepted(), 1u);
}

}  // namespace
}  // namespace dollhouse::testing
