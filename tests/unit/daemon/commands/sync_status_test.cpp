#include <gtest/gtest.h>

#include "tests/unit/daemon/commands/command_fixture.hpp"

namespace dollhouse::daemon::testing {
namespace {

using nlohmann::json;

TEST(SyncCommand, CountsWhatThisConnectionHadKeptAndDropped) {
  CommandFixture f;
  auto c = f.hello_connection();
  f.send(c, {{"op", "track"}, {"event", error_event()}});  // no consent yet: dropped
  f.give_consent();
  f.send(c, {{"op", "track"}, {"event", error_event()}});
  f.send(c, {{"op", "track"}, {"event", error_event()}});
  json reply = f.run(c, {{"op", "sync"}});
  ASSERT_TRUE(reply["ok"].get<bool>()) << reply.dump();
  EXPECT_EQ(reply["accepted"], 2);
  EXPECT_EQ(reply["dropped"], 1);
  EXPECT_EQ(c->in_flight, 0) << "the sync's storage request came back";
  EXPECT_EQ(f.shown().size(), 2u) << "a sync reply means the events are on disk";
}

TEST(StatusCommand, ReportsConsentQueueCountersAndTheDaemon) {
  CommandFixture f;
  auto c = f.hello_connection();
  f.send(c, {{"op", "track"}, {"event", error_event()}});
  f.give_consent();
  f.send(c, {{"op", "track"}, {"event", error_event()}});
  f.connections.open = 3;
  f.connections.total = 7;
  json s = f.run(c, {{"op", "status"}});
  ASSERT_TRUE(s["ok"].get<bool>()) << s.dump();
  EXPECT_EQ(s["enabled"], true);
  EXPECT_TRUE(s["blockedBy"].is_null());
  EXPECT_EQ(s["consent"]["given"], true);
  EXPECT_EQ(s["consent"]["policyVersion"], kPolicyVersion);
  EXPECT_EQ(s["consent"]["timestamp"], format_iso8601(kMonday));
  EXPECT_EQ(s["maxDataRetention"], kDefaultMaxDataRetention);
  EXPECT_EQ(s["level"], "all");
  EXPECT_EQ(s["queue"]["pending"], 1);
  EXPECT_EQ(s["queue"]["dropped"]["no_consent"], 1);
  EXPECT_EQ(s["queue"]["droppedTotal"], 1);
  EXPECT_EQ(s["counters"]["accepted"], 1);
  EXPECT_EQ(s["upload"]["configured"], true);
  EXPECT_EQ(s["upload"]["pendingBatches"], 1);
  EXPECT_EQ(s["daemon"]["version"], "9.9.9");
  EXPECT_EQ(s["daemon"]["pid"], 4242);
  EXPECT_EQ(s["daemon"]["connections"], 3);
  EXPECT_EQ(s["daemon"]["connectionsTotal"], 7);
  EXPECT_EQ(s["remoteDeletion"]["pending"], 0);
}

TEST(StatusCommand, NamesTheKillSwitchThatBlocks) {
  CommandFixture f({.endpoint = "", .kill_switch = {true, "DO_NOT_TRACK", "DO_NOT_TRACK=1"}});
  f.give_consent();
  auto c = std::make_shared<RecordedConnection>();
  json s = f.run(c, {{"op", "status"}});
  EXPECT_EQ(s["enabled"], false);
  EXPECT_EQ(s["blockedBy"], "kill_switch");
  EXPECT_EQ(s["overriddenBy"], "DO_NOT_TRACK");
  EXPECT_EQ(s["upload"]["configured"], false);
}

}  // namespace
}  // namespace dollhouse::daemon::testing
