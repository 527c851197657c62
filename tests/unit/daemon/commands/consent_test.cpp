#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/unit/daemon/commands/command_fixture.hpp"

namespace dollhouse::daemon::testing {
namespace {

using nlohmann::json;

json config_file(const CommandFixture& f) {
  std::ifstream in(f.config_path);
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

TEST(ConsentCommand, GivingConsentRecordsItOnDiskAndCreatesTheInstallId) {
  CommandFixture f;
  auto c = std::make_shared<RecordedConnection>();
  json reply = f.run(c, {{"op", "consent"}, {"enabled", true}, {"maxDataRetention", 30}});
  ASSERT_TRUE(reply["ok"].get<bool>()) << reply.dump();
  EXPECT_EQ(reply["consent"]["enabled"], true);
  EXPECT_EQ(reply["consent"]["policyVersion"], kPolicyVersion);
  EXPECT_EQ(reply["wasEnabled"], false);
  EXPECT_EQ(reply["droppedUnsent"], 0);
  json file = config_file(f);
  EXPECT_EQ(file["consentGiven"], true);
  EXPECT_EQ(file["policyVersion"], kPolicyVersion);
  EXPECT_EQ(file["consentTimestamp"], format_iso8601(kMonday));
  EXPECT_EQ(file["maxDataRetention"], 30);
  ASSERT_TRUE(file["installId"].is_string());
  EXPECT_TRUE(is_uuid(file["installId"].get<std::string>()));
  EXPECT_EQ(file["installId"], f.consent.config().install_id);
}

TEST(ConsentCommand, WithdrawingDropsWhatIsQueuedAndUnsent) {
  CommandFixture f;
  f.give_consent();
  auto app = f.hello_connection();
  f.send(app, {{"op", "track"}, {"event", error_event()}});
  f.send(app, {{"op", "track"}, {"event", error_event()}});
  f.run(app, {{"op", "sync"}});
  auto c = std::make_shared<RecordedConnection>();
  json reply = f.run(c, {{"op", "consent"}, {"enabled", false}});
  ASSERT_TRUE(reply["ok"].get<bool>()) << reply.dump();
  EXPECT_EQ(reply["droppedUnsent"], 2);
  EXPECT_EQ(reply["wasEnabled"], true);
  EXPECT_EQ(reply["consent"]["blockedBy"], "no_consent");
  EXPECT_TRUE(f.shown().empty());
  EXPECT_EQ(config_file(f)["consentGiven"], false);
}

TEST(ConsentCommand, ConsentToAnOlderPolicyIsRefused) {
  CommandFixture f;
  auto c = std::make_shared<RecordedConnection>();
  json reply = f.run(c, {{"op", "consent"}, {"enabled", true}, {"policyVersion", "0.9"}});
  EXPECT_EQ(reply["error"]["code"], "policy_outdated");
  EXPECT_FALSE(f.consent.config().consent_given);
}

TEST(ConsentCommand, RefusesUnknownCategoriesAndOutOfRangeRetention) {
  CommandFixture f;
  auto c = std::make_shared<RecordedConnection>();
  json bad_category =
      f.run(c, {{"op", "consent"}, {"enabled", true}, {"categories", {{"telepathy", true}}}});
  EXPECT_EQ(bad_category["error"]["code"], "invalid_request");
  EXPECT_NE(bad_category["error"]["message"].get<std::string>().find("installation, update"),
            std::string::npos);
  json bad_retention = f.run(c, {{"op", "consent"}, {"enabled", true}, {"maxDataRetention", 0}});
  EXPECT_EQ(bad_retention["error"]["code"], "invalid_request");
  json no_enabled = f.run(c, {{"op", "consent"}});
  EXPECT_EQ(no_enabled["error"]["code"], "invalid_request");
  EXPECT_FALSE(f.consent.config().consent_given);
}

TEST(ConsentCommand, SwitchingACategoryOffDropsOnlyItsUnsentEvents) {
  CommandFixture f;
  f.give_consent();
  auto app = f.hello_connection();
  f.send(app, {{"op", "track"}, {"event", error_event()}});
  f.send(app,
         {{"op", "track"},
          {"event",
           {{"eventType", "installation"}, {"installMethod", "npm"}, {"installType", "new"}}}});
  f.run(app, {{"op", "sync"}});
  auto c = std::make_shared<RecordedConnection>();
  json reply = f.run(c, {{"op", "consent"}, {"enabled", true}, {"categories", {{"error", false}}}});
  EXPECT_EQ(reply["droppedUnsent"], 1);
  json entries = f.shown();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["eventType"], "installation");
}

}  // namespace
}  // namespace dollhouse::daemon::testing
