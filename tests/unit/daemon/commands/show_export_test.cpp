#include <gtest/gtest.h>

#include "tests/unit/daemon/commands/command_fixture.hpp"

namespace dollhouse::daemon::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// Three stored errors, one minute apart, with messages "first", "second", "third".
void store_three(CommandFixture& f) {
  f.give_consent();
  auto app = f.hello_connection();
  for (const char* message : {"first", "second", "third"}) {
    f.send(app, {{"op", "track"}, {"event", error_event(message)}});
    f.run(app, {{"op", "sync"}});
    f.clock.advance(1min);
  }
}

TEST(ShowCommand, ListsTheLocalLogNewestFirstUpToTheLimit) {
  CommandFixture f;
  store_three(f);
  json two = f.shown(2);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0]["data"]["errorMessage"], "third");
  EXPECT_EQ(two[1]["data"]["errorMessage"], "second");
  for (const json& e : two) {
    for (const char* key : {"timestamp", "eventType", "data", "sentToServer"}) {
      EXPECT_TRUE(e.contains(key)) << key;
    }
  }
}

TEST(ShowCommand, SinceKeepsOnlyLaterEvents) {
  CommandFixture f;
  store_three(f);
  auto c = std::make_shared<RecordedConnection>();
  json reply = f.run(c, {{"op", "show"}, {"since", format_iso8601(kMonday + 1min)}});
  ASSERT_TRUE(reply["ok"].get<bool>()) << reply.dump();
  ASSERT_EQ(reply["entries"].size(), 2u);
  EXPECT_EQ(reply["entries"][1]["data"]["errorMessage"], "second");
}

TEST(ShowCommand, RefusesABadLimitOrSince) {
  CommandFixture f;
  auto c = std::make_shared<RecordedConnection>();
  EXPECT_EQ(f.run(c, {{"op", "show"}, {"limit", 0}})["error"]["code"], "invalid_request");
  EXPECT_EQ(f.run(c, {{"op", "show"}, {"limit", "ten"}})["error"]["code"], "invalid_request");
  EXPECT_EQ(f.run(c, {{"op", "show"}, {"since", "yesterday"}})["error"]["code"], "invalid_request");
}

TEST(ExportCommand, HoldsTheConfigEveryEventAndTheCounters) {
  CommandFixture f;
  store_three(f);
  auto c = std::make_shared<RecordedConnection>();
  json reply = f.run(c, {{"op", "export"}});
  ASSERT_TRUE(reply["ok"].get<bool>()) << reply.dump();
  const json& doc = reply["export"];
  EXPECT_EQ(doc["daemonVersion"], "9.9.9");
  EXPECT_EQ(doc["exportedAt"], format_iso8601(kMonday + 3min));
  EXPECT_EQ(doc["config"]["installId"], f.consent.config().install_id);
  ASSERT_EQ(doc["events"].size(), 3u);
  EXPECT_EQ(doc["events"][0]["data"]["errorMessage"], "first") << "oldest first";
  EXPECT_EQ(doc["counters"]["accepted"], 3);
  EXPECT_TRUE(doc["usageInProgress"].is_array());
}

}  // namespace
}  // namespace dollhouse::daemon::testing
