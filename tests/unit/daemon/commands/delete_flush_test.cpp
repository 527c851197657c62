#include <gtest/gtest.h>

#include "tests/unit/daemon/commands/command_fixture.hpp"

namespace dollhouse::daemon::testing {
namespace {

using nlohmann::json;

void store_one(CommandFixture& f) {
  auto app = f.hello_connection();
  f.send(app, {{"op", "track"}, {"event", error_event()}});
  f.run(app, {{"op", "sync"}});
}

TEST(DeleteCommand, LocalRemovesEveryEvent) {
  CommandFixture f;
  f.give_consent();
  store_one(f);
  store_one(f);
  auto c = std::make_shared<RecordedConnection>();
  json reply = f.run(c, {{"op", "delete"}, {"scope", "local"}});
  ASSERT_TRUE(reply["ok"].get<bool>()) << reply.dump();
  EXPECT_EQ(reply["deleted"], 2);
  EXPECT_FALSE(reply.contains("remoteDeletion"));
  EXPECT_TRUE(f.shown().empty());
}

TEST(DeleteCommand, RemoteQueuesTheDeletionAndRotatesTheInstallId) {
  CommandFixture f;
  f.give_consent();
  store_one(f);
  const std::string old_id = f.consent.config().install_id;
  auto c = std::make_shared<RecordedConnection>();
  json reply = f.run(c, {{"op", "delete"}, {"scope", "remote"}});
  ASSERT_TRUE(reply["ok"].get<bool>()) << reply.dump();
  EXPECT_EQ(reply["remoteDeletion"], "pending");
  EXPECT_EQ(reply["deleted"], 1) << "the unsent event carried the old id";
  EXPECT_NE(f.consent.config().install_id, old_id);
  EXPECT_TRUE(is_uuid(f.consent.config().install_id));
  json status = f.run(c, {{"op", "status"}});
  EXPECT_EQ(status["remoteDeletion"]["pending"], 1);
}

TEST(DeleteCommand, RemoteWithNothingUploadedHasNothingToDelete) {
  CommandFixture f;
  auto c = std::make_shared<RecordedConnection>();
  json reply = f.run(c, {{"op", "delete"}, {"scope", "remote"}});
  EXPECT_EQ(reply["remoteDeletion"], "nothing_to_delete");
  EXPECT_TRUE(f.consent.config().install_id.empty());
}

TEST(DeleteCommand, RefusesAnUnknownScope) {
  CommandFixture f;
  auto c = std::make_shared<RecordedConnection>();
  EXPECT_EQ(f.run(c, {{"op", "delete"}, {"scope", "everything"}})["error"]["code"],
            "invalid_request");
}

TEST(FlushCommand, WithoutAnEndpointSaysUploadingIsNotConfigured) {
  CommandFixture f({.endpoint = "not a url"});
  auto c = std::make_shared<RecordedConnection>();
  json reply = f.run(c, {{"op", "flush"}});
  EXPECT_EQ(reply["error"]["code"], "not_configured");
  EXPECT_NE(reply["error"]["message"].get<std::string>().find("local queue"), std::string::npos);
}

TEST(FlushCommand, RepliesWithTheAttemptsOutcomeWhenTheServerCannotBeReached) {
  CommandFixture f;
  f.give_consent();
  store_one(f);
  auto c = std::make_shared<RecordedConnection>();
  json reply = f.run(c, {{"op", "flush"}});
  ASSERT_TRUE(reply["ok"].get<bool>()) << reply.dump();
  ASSERT_TRUE(reply.contains("flush"));
  EXPECT_TRUE(reply["flush"]["error"].is_string()) << reply.dump();
  EXPECT_EQ(reply["flush"]["sentEvents"], 0);
  EXPECT_TRUE(reply["flush"]["nextAttempt"].is_string()) << "a retry is scheduled";
  EXPECT_EQ(c->in_flight, 0);
  EXPECT_EQ(f.shown()[0]["sentToServer"], false) << "nothing was sent, so it stays queued";
}

}  // namespace
}  // namespace dollhouse::daemon::testing
