#include <gtest/gtest.h>

#include "daemon/maintenance.hpp"
#include "tests/unit/daemon/commands/command_fixture.hpp"

namespace dollhouse::daemon::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

TEST(Dispatcher, AnUnknownOpIsAnsweredWithTheOpsThisDaemonKnows) {
  CommandFixture f;
  auto c = std::make_shared<RecordedConnection>();
  json reply = f.run(c, {{"op", "launch"}});
  EXPECT_EQ(reply["error"]["code"], "unknown_op");
  std::string message = reply["error"]["message"].get<std::string>();
  EXPECT_NE(message.find(known_ops()), std::string::npos) << message;
  EXPECT_NE(known_ops().find("hello, track, usage"), std::string::npos);
}

TEST(Dispatcher, AMalformedLineGetsTheParsersErrorAndIsCounted) {
  CommandFixture f;
  auto c = std::make_shared<RecordedConnection>();
  f.dispatcher.dispatch(c, ipc::Frame{R"({"v":1,"op":"status","id":5,)", false});
  f.run_until([&] { return !c->replies.empty(); });
  EXPECT_EQ(c->replies[0]["id"], 5);
  EXPECT_EQ(c->replies[0]["error"]["code"], "invalid_json");
  json s = f.run(c, {{"op", "status"}});
  EXPECT_EQ(s["protocolErrors"]["invalid_json"], 1);
}

// Maintenance turns ended weeks into weekly_summary events and applies retention.
struct MaintenanceFixture : CommandFixture {
  std::int64_t stored = 0;
  Maintenance maintenance{io,      clock,    consent,
                          channel, platform, [this](std::int64_t n) { stored += n; }};

  // Runs a pass and waits until the storage thread has done it.
  void run_pass() {
    maintenance.run();
    auto c = std::make_shared<RecordedConnection>();
    run(c, {{"op", "sync"}});  // tasks run in order: the pass is done when this answers
  }
};

TEST(Maintenance, AWeekThatEndedBecomesOneWeeklySummaryForEachApp) {
  MaintenanceFixture f;
  f.give_consent();
  auto app = f.hello_connection("dollhousemcp");
  ASSERT_EQ(f.run(app, {{"op", "usage"}, {"counters", {{"personasUsed", 4}}}})["accepted"], true);
  f.run_pass();
  EXPECT_TRUE(f.shown().empty()) << "the week is still running";
  f.clock.advance(std::chrono::hours(24 * 7));
  f.run_pass();
  json entries = f.shown();
  ASSERT_EQ(entries.size(), 1u);
  const json& summary = entries[0]["data"];
  EXPECT_EQ(entries[0]["eventType"], "weekly_summary");
  EXPECT_EQ(summary["weekStart"], local_week_position(kMonday).week_start);
  EXPECT_EQ(summary["features"]["personasUsed"], 4);
  EXPECT_EQ(summary["version"], "1.9.16");
  EXPECT_EQ(summary["platform"]["mcpClient"], "claude-code");
  EXPECT_EQ(summary["installId"], f.consent.config().install_id);
  f.run_until([&] { return f.stored == 1; });
  EXPECT_EQ(f.stored, 1) << "the uploader hears of the new event";
}

TEST(Maintenance, EventsOlderThanTheRetentionAreRemoved) {
  MaintenanceFixture f;
  f.give_consent();
  auto app = f.hello_connection();
  f.send(app, {{"op", "track"}, {"event", error_event()}});
  f.run(app, {{"op", "sync"}});
  f.clock.advance(std::chrono::hours(24 * (kDefaultMaxDataRetention - 1)));
  f.run_pass();
  EXPECT_EQ(f.shown().size(), 1u);
  f.clock.advance(std::chrono::hours(48));
  f.run_pass();
  EXPECT_TRUE(f.shown().empty());
  auto c = std::make_shared<RecordedConnection>();
  EXPECT_EQ(f.run(c, {{"op", "status"}})["queue"]["dropped"]["evicted_retention"], 1);
}

}  // namespace
}  // namespace dollhouse::daemon::testing
