#include <gtest/gtest.h>

#include "tests/unit/daemon/commands/command_fixture.hpp"

namespace dollhouse::daemon::testing {
namespace {

using nlohmann::json;

TEST(TrackCommand, BeforeHelloIsRefusedAndCountedAsNoHello) {
  CommandFixture f;
  f.give_consent();
  auto c = std::make_shared<RecordedConnection>();
  json reply = f.run(c, {{"op", "track"}, {"event", error_event()}});
  EXPECT_EQ(reply["error"]["code"], "hello_required");
  EXPECT_EQ(c->dropped, 1);
  EXPECT_TRUE(f.shown().empty());
}

TEST(TrackCommand, WithoutConsentNothingIsStored) {
  CommandFixture f;
  auto c = f.hello_connection();
  json reply = f.run(c, {{"op", "track"}, {"event", error_event()}});
  ASSERT_TRUE(reply["ok"].get<bool>());
  EXPECT_EQ(reply["accepted"], false);
  EXPECT_EQ(reply["reason"], "no_consent");
  EXPECT_EQ(c->dropped, 1);
  EXPECT_EQ(c->accepted, 0);
  EXPECT_TRUE(f.shown().empty());
}

TEST(TrackCommand, AnEventWithConsentIsStoredStampedWithTheDaemonsFields) {
  CommandFixture f;
  f.give_consent();
  auto c = f.hello_connection();
  json reply = f.run(c, {{"op", "track"}, {"event", error_event()}});
  ASSERT_EQ(reply["accepted"], true) << reply.dump();
  EXPECT_EQ(c->accepted, 1);
  json entries = f.shown();
  ASSERT_EQ(entries.size(), 1u);
  const json& data = entries[0]["data"];
  EXPECT_EQ(entries[0]["eventType"], "error");
  EXPECT_EQ(entries[0]["sentToServer"], false);
  EXPECT_EQ(data["timestamp"], format_iso8601(kMonday)) << "from the injected clock";
  EXPECT_EQ(data["installId"], f.consent.config().install_id);
  EXPECT_EQ(data["version"], "1.9.16");
  EXPECT_EQ(data["platform"], (json{{"os", "linux"},
                                    {"osVersion", "Debian 12"},
                                    {"arch", "x64"},
                                    {"mcpClient", "claude-code"}}));
  EXPECT_EQ(data["errorCategory"], "CONFIG_ERROR");
}

TEST(TrackCommand, AFireAndForgetEventGetsNoReplyButIsStored) {
  CommandFixture f;
  f.give_consent();
  auto c = f.hello_connection();
  f.send(c, {{"op", "track"}, {"event", error_event()}});
  json sync = f.run(c, {{"op", "sync"}});
  EXPECT_EQ(c->replies.size(), 1u) << "only the sync answered";
  EXPECT_EQ(sync["accepted"], 1);
  EXPECT_EQ(f.shown().size(), 1u);
}

TEST(TrackCommand, AnEventOfACategoryThatIsOffIsDropped) {
  CommandFixture f;
  f.give_consent();
  auto ctl = std::make_shared<RecordedConnection>();
  ASSERT_TRUE(
      f.run(ctl, {{"op", "consent"}, {"enabled", true}, {"categories", {{"error", false}}}})["ok"]
          .get<bool>());
  auto c = f.hello_connection();
  json reply = f.run(c, {{"op", "track"}, {"event", error_event()}});
  EXPECT_EQ(reply["reason"], "category_off");
  EXPECT_TRUE(f.shown().empty());
}

TEST(TrackCommand, AnInvalidEventIsRejectedWithTheFieldAtFault) {
  CommandFixture f;
  f.give_consent();
  auto c = f.hello_connection();
  json event = error_event();
  event["errorType"] = "sometimes";
  json reply = f.run(c, {{"op", "track"}, {"event", event}});
  EXPECT_EQ(reply["error"]["code"], "invalid_event");
  EXPECT_EQ(reply["error"]["path"], "/errorType");
  json missing = f.run(c, {{"op", "track"}});
  EXPECT_EQ(missing["error"]["code"], "invalid_event");
  EXPECT_EQ(missing["error"]["path"], "/event");
  EXPECT_EQ(c->dropped, 2);
  EXPECT_TRUE(f.shown().empty());
}

TEST(TrackCommand, PersonalDataIsScrubbedBeforeStorage) {
  CommandFixture f;
  f.give_consent();
  auto c = f.hello_connection();
  json reply = f.run(
      c, {{"op", "track"}, {"event", error_event("failed for jane.doe@example.com at 10.1.2.3")}});
  ASSERT_EQ(reply["accepted"], true) << reply.dump();
  std::string stored = f.shown()[0]["data"]["errorMessage"].get<std::string>();
  EXPECT_EQ(stored.find("jane.doe@example.com"), std::string::npos) << stored;
  EXPECT_EQ(stored.find("10.1.2.3"), std::string::npos) << stored;
}

TEST(TrackCommand, AKillSwitchInTheDaemonsEnvironmentDropsEverything) {
  CommandFixture f({.endpoint = "refused", .kill_switch = {true, "DO_NOT_TRACK", "set"}});
  f.give_consent();
  auto c = f.hello_connection();
  json reply = f.run(c, {{"op", "track"}, {"event", error_event()}});
  EXPECT_EQ(reply["reason"], "kill_switch");
  json unknown = f.run(c, {{"op", "track"}, {"event", {{"eventType", "bogus"}}}});
  EXPECT_EQ(unknown["reason"], "kill_switch") << "refused before its content is looked at";
  EXPECT_TRUE(f.shown().empty());
}

}  // namespace
}  // namespace dollhouse::daemon::testing
