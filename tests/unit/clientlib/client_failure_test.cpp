// The client when things go wrong: no daemon, a full queue, a kill switch, a stuck daemon.
// In every case the app's calls return at once and the losses are counted.
#include <gtest/gtest.h>

#include <cstdlib>

#include "dollhouse/telemetry.hpp"
#include "tests/support/fake_daemon.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/clientlib/client_test_support.hpp"

namespace dollhouse::testing {
namespace {

using namespace std::chrono_literals;
using telemetry::Client;
using SteadyClock = std::chrono::steady_clock;
using Env = std::map<std::string, std::string>;

TEST(ClientFailure, TrackReturnsQuicklyWithoutDaemonAndCountsDrops) {
  TempDir dir;
  auto options = client_options(dir.endpoint("nobody-listens.sock"));
  options.reconnect_min = 10s;  // one attempt for the whole test
  options.reconnect_max = 10s;
  Client client(options);
  constexpr int kEvents = 500;
  auto start = SteadyClock::now();
  for (int i = 0; i < kEvents; ++i) client.track_crash(sample_failure("x"));
  EXPECT_LT(SteadyClock::now() - start, 2s) << "track() must not wait for the daemon";

  start = SteadyClock::now();
  EXPECT_FALSE(client.flush(2s));
  EXPECT_LT(SteadyClock::now() - start, 2s) << "an absent daemon fails flush early";
  auto stats = client.stats();
  EXPECT_EQ(stats.dropped_no_daemon, static_cast<std::uint64_t>(kEvents));
  EXPECT_EQ(stats.delivered, 0u);
  EXPECT_EQ(stats.dropped_queue_full, 0u);
}

TEST(ClientFailure, QueueFullDropsAreCounted) {
  TempDir dir;
  FakeDaemonScript script;
  script.answer_hello = false;  // the background thread waits for hello; nothing drains
  FakeDaemon daemon(dir.endpoint("t.sock"), script);
  auto options = client_options(dir.endpoint("t.sock"));
  options.max_queued_events = 3;
  options.shutdown_timeout = 3s;  // also the hello timeout: longer than this test's loop
  Client client(options);
  int accepted = 0;
  for (int i = 0; i < 10; ++i) accepted += client.track_crash(sample_failure("x")) ? 1 : 0;
  EXPECT_EQ(accepted, 3);
  auto stats = client.stats();
  EXPECT_EQ(stats.queued, 3u);
  EXPECT_EQ(stats.dropped_queue_full, 7u);
}

struct KillSwitchCase {
  const char* name;
  Env environment;
};

class ClientKillSwitch : public ::testing::TestWithParam<KillSwitchCase> {};

TEST_P(ClientKillSwitch, MakesTheClientANoop) {
  TempDir dir;
  FakeDaemon daemon(dir.endpoint("t.sock"));
  auto options = client_options(dir.endpoint("t.sock"));
  options.environment = GetParam().environment;
  Client client(options);
  EXPECT_FALSE(client.enabled());
  EXPECT_FALSE(client.track(telemetry::InstallationEvent{"npm", "new", ""}));
  EXPECT_FALSE(client.track(telemetry::UpdateEvent{}));
  EXPECT_FALSE(client.track_crash(sample_failure("x")));
  EXPECT_FALSE(client.track_error(sample_failure("x")));
  EXPECT_FALSE(client.track_json(R"({"eventType":"error"})"));
  telemetry::Usage usage;
  usage.counters["sessions"] = 1;
  EXPECT_FALSE(client.usage(usage));
  EXPECT_FALSE(client.flush(200ms));
  EXPECT_EQ(client.stats().dropped_disabled, 6u);
  EXPECT_EQ(client.stats().queued, 0u);
  EXPECT_EQ(daemon.connections_accepted(), 0u) << "a disabled client never opens the socket";
}

INSTANTIATE_TEST_SUITE_P(
    Switches, ClientKillSwitch,
    ::testing::Values(KillSwitchCase{"DoNotTrack", {{"DO_NOT_TRACK", "1"}}},
                      KillSwitchCase{"TelemetryOff", {{"DOLLHOUSE_TELEMETRY", "off"}}},
                      KillSwitchCase{"TelemetryFalse", {{"DOLLHOUSE_TELEMETRY", "false"}}},
                      KillSwitchCase{"Ci", {{"CI", "true"}}},
                      KillSwitchCase{"GithubActions", {{"GITHUB_ACTIONS", "true"}}},
                      KillSwitchCase{"DoNotTrackWinsOverExplicitOn",
                                     {{"DO_NOT_TRACK", "1"}, {"DOLLHOUSE_TELEMETRY", "true"}}}),
    [](const ::testing::TestParamInfo<KillSwitchCase>& p) { return p.param.name; });

TEST(ClientKillSwitchOverride, ExplicitTelemetryTrueCollectsInCi) {
  TempDir dir;
  FakeDaemon daemon(dir.endpoint("t.sock"));
  auto options = client_options(dir.endpoint("t.sock"));
  options.environment = Env{{"CI", "true"}, {"DOLLHOUSE_TELEMETRY", "true"}};
  Client client(options);
  EXPECT_TRUE(client.enabled());
  EXPECT_TRUE(client.track_crash(sample_failure("x")));
  EXPECT_TRUE(client.flush(5s));
}

TEST(ClientKillSwitchOverride, SocketPathComesFromTheInjectedEnvironment) {
  TempDir dir;
  FakeDaemon daemon(dir.endpoint("env.sock"));
  auto options = client_options("");
  options.environment = Env{{"DOLLHOUSE_TELEMETRY_SOCKET", dir.endpoint("env.sock")}};
  Client client(options);
  EXPECT_TRUE(client.track_crash(sample_failure("x")));
  EXPECT_TRUE(client.flush(5s));
  EXPECT_EQ(daemon.lines_with_op("track").size(), 1u);
}

TEST(ClientShutdown, DestructorIsBoundedWhenTheDaemonStopsReading) {
  TempDir dir;
  FakeDaemonScript script;
  script.read_after_hello = false;
  FakeDaemon daemon(dir.endpoint("t.sock"), script);
  auto options = client_options(dir.endpoint("t.sock"));
  options.shutdown_timeout = 500ms;
  options.max_queued_events = 4096;
  auto client = std::make_unique<Client>(options);
  ASSERT_TRUE(client->track_crash(sample_failure("x")));
  ASSERT_TRUE(daemon.wait_for_op_count("hello", 1, 5s));
  // Far more than a socket buffer holds: the background thread ends up blocked in send().
  auto big = sample_failure("x");
  big.error_message.assign(30000, 'm');
  for (int i = 0; i < 400; ++i) client->track_error(big);

  auto start = SteadyClock::now();
  client.reset();
  auto elapsed = SteadyClock::now() - start;
  EXPECT_LT(elapsed, options.shutdown_timeout + 3s);
}

TEST(ClientShutdown, DestructorIsBoundedWhenHelloIsNeverAnswered) {
  TempDir dir;
  FakeDaemonScript script;
  script.answer_hello = false;
  FakeDaemon daemon(dir.endpoint("t.sock"), script);
  auto options = client_options(dir.endpoint("t.sock"));
  options.shutdown_timeout = 300ms;
  auto client = std::make_unique<Client>(options);
  client->track_crash(sample_failure("x"));
  ASSERT_TRUE(daemon.wait_for_op_count("hello", 1, 5s));
  auto start = SteadyClock::now();
  client.reset();
  EXPECT_LT(SteadyClock::now() - start, options.shutdown_timeout + 3s);
}

TEST(ClientShutdown, DestructorHandsOverWhatIsQueued) {
  TempDir dir;
  FakeDaemon daemon(dir.endpoint("t.sock"));
  {
    Client client(client_options(dir.endpoint("t.sock")));
    for (int i = 0; i < 50; ++i) client.track_error(sample_failure("x"));
  }
  EXPECT_TRUE(daemon.wait_for_op_count("track", 50, 5s));
}

TEST(ClientShutdown, DisabledClientDestroysAtOnce) {
  auto options = client_options("/nonexistent/t.sock");
  options.environment = Env{{"DO_NOT_TRACK", "1"}};
  auto start = SteadyClock::now();
  { Client client(options); }
  EXPECT_LT(SteadyClock::now() - start, 1s);
}

// An app may keep its Client in a static; exit() then destroys it after main. It must neither
// hang nor crash there, with or without a daemon.
TEST(ClientShutdownDeathTest, StaticClientIsDestroyedCleanlyAtExit) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  TempDir dir;
  FakeDaemon daemon(dir.endpoint("t.sock"));
  auto exit_with_static_client = [](const std::string& socket_path) {
    static Client client(client_options(socket_path));
    for (int i = 0; i < 100; ++i) client.track_crash(sample_failure("x"));
    std::exit(0);
  };
  EXPECT_EXIT(exit_with_static_client(dir.endpoint("t.sock")), ::testing::ExitedWithCode(0), "");
  EXPECT_EXIT(exit_with_static_client(dir.endpoint("nobody.sock")), ::testing::ExitedWithCode(0),
              "");
}

}  // namespace
}  // namespace dollhouse::testing
