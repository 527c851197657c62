#include <gtest/gtest.h>

#include "tests/unit/daemon/commands/command_fixture.hpp"

namespace dollhouse::daemon::testing {
namespace {

using nlohmann::json;

TEST(HelloCommand, NamesTheConnectionsAppAndRepliesWithTheConsentSummary) {
  CommandFixture f;
  auto c = std::make_shared<RecordedConnection>();
  json reply = f.run(c, {{"op", "hello"},
                         {"app", "dollhousemcp"},
                         {"appVersion", "1.9.16"},
                         {"nodeVersion", "20.11.1"},
                         {"mcpClient", "something-new"}});
  ASSERT_TRUE(reply["ok"].get<bool>()) << reply.dump();
  EXPECT_EQ(reply["protocol"], 1);
  EXPECT_EQ(reply["daemonVersion"], "9.9.9");
  EXPECT_EQ(reply["consent"]["enabled"], false);
  EXPECT_EQ(reply["consent"]["blockedBy"], "no_consent");
  EXPECT_TRUE(reply["consent"]["policyVersion"].is_null()) << "nothing recorded yet";
  EXPECT_EQ(reply["consent"]["currentPolicyVersion"], kPolicyVersion);
  EXPECT_TRUE(c->app.known);
  EXPECT_EQ(c->app.app, "dollhousemcp");
  EXPECT_EQ(c->app.node_version, "20.11");
  EXPECT_EQ(c->app.mcp_client, "other");
}

TEST(HelloCommand, RefusesAnAppNameThatIsNotAPlainName) {
  CommandFixture f;
  auto c = std::make_shared<RecordedConnection>();
  json reply = f.run(c, {{"op", "hello"}, {"app", "my app/../x y"}, {"appVersion", "1.0.0"}});
  EXPECT_FALSE(reply["ok"].get<bool>());
  EXPECT_EQ(reply["error"]["code"], "invalid_request");
  EXPECT_FALSE(c->app.known);
}

TEST(HelloCommand, RefusesAMissingOrMalformedVersion) {
  CommandFixture f;
  auto c = std::make_shared<RecordedConnection>();
  for (json version : {json(), json("latest"), json(3)}) {
    json req = {{"op", "hello"}, {"app", "demo"}};
    if (!version.is_null()) req["appVersion"] = version;
    json reply = f.run(c, req);
    EXPECT_EQ(reply["error"]["code"], "invalid_request") << version.dump();
  }
  EXPECT_FALSE(c->app.known);
}

}  // namespace
}  // namespace dollhouse::daemon::testing
