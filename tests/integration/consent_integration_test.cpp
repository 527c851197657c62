// Consent as the daemon enforces it: nothing stored without it, kill switches win, consent is
// bound to the policy version, categories and levels filter, withdrawal drops unsent events.
#include <sys/stat.h>

#include <fstream>

#include <gtest/gtest.h>

#include "tests/support/daemon_harness.hpp"

namespace dollhouse::testing {
namespace {

using nlohmann::json;

const json kInstallation = {
    {"eventType", "installation"}, {"installMethod", "npm"}, {"installType", "new"}};
const json kCrash = {{"eventType", "crash"},        {"errorType", "startup"},
                     {"errorCategory", "EACCES"},   {"errorMessage", "cannot open config"},
                     {"component", "ConfigLoader"}, {"recovered", true}};

json track(TestClient& c, const json& event) {
  return c.request({{"op", "track"}, {"event", event}});
}

TEST(Consent, WithoutConsentNothingIsStoredOnlyCounted) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  TestClient c = h.client();
  json hello = c.hello();
  EXPECT_FALSE(hello["consent"]["enabled"].get<bool>());
  json reply = track(c, kInstallation);
  EXPECT_TRUE(reply["ok"].get<bool>());
  EXPECT_FALSE(reply["accepted"].get<bool>());
  EXPECT_EQ(reply["reason"], "no_consent");
  EXPECT_TRUE(c.request({{"op", "usage"}, {"counters", {{"sessions", 1}}}})["ok"].get<bool>());
  EXPECT_TRUE(c.request({{"op", "sync"}})["ok"].get<bool>());
  EXPECT_EQ(h.entries().size(), 0u);
  json status = h.status();
  EXPECT_EQ(status["queue"]["dropped"]["no_consent"], 2);
  EXPECT_EQ(status["installId"], nullptr) << "no installId before consent";
  json exported = c.request({{"op", "export"}});
  EXPECT_TRUE(exported["export"]["usageInProgress"].empty());
}

TEST(Consent, EnablingCreatesAnInstallIdAndStoresEvents) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  json reply = h.enable();
  ASSERT_TRUE(reply["ok"].get<bool>()) << reply.dump();
  TestClient c = h.client();
  c.hello();
  EXPECT_TRUE(track(c, kInstallation)["accepted"].get<bool>());
  c.request({{"op", "sync"}});
  json entries = h.entries();
  ASSERT_EQ(entries.size(), 1u);
  json status = h.status();
  std::string install_id = status["installId"];
  EXPECT_EQ(install_id.size(), 36u);
  EXPECT_EQ(install_id[14], '4') << "UUID version 4";
  EXPECT_EQ(entries[0]["data"]["installId"], install_id);
  EXPECT_EQ(entries[0]["data"]["version"], "1.2.3");
  EXPECT_EQ(entries[0]["data"]["platform"]["nodeVersion"], "20.10");
  EXPECT_EQ(entries[0]["data"]["platform"]["mcpClient"], "claude-code");
  EXPECT_FALSE(entries[0]["sentToServer"].get<bool>());
  // Consent is recorded in telemetry.json, readable by the user only.
  std::ifstream in(h.root() + "/telemetry.json");
  json config = json::parse(in);
  EXPECT_TRUE(config["consentGiven"].get<bool>());
  EXPECT_EQ(config["policyVersion"], "1.0");
  EXPECT_EQ(config["installId"], install_id);
  struct stat st {};
  ASSERT_EQ(::stat((h.root() + "/telemetry.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(Consent, DisablingDropsUnsentEventsAtOnce) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  h.enable();
  TestClient c = h.client();
  c.hello();
  for (int i = 0; i < 5; ++i) track(c, kCrash);
  c.request({{"op", "sync"}});
  ASSERT_EQ(h.entries().size(), 5u);
  json reply = c.request({{"op", "consent"}, {"enabled", false}});
  ASSERT_TRUE(reply["ok"].get<bool>());
  EXPECT_EQ(reply["droppedUnsent"], 5);
  EXPECT_EQ(h.entries().size(), 0u);
  EXPECT_EQ(track(c, kCrash)["reason"], "no_consent");
  EXPECT_EQ(h.status()["queue"]["dropped"]["withdrawn"], 5);
}

TEST(Consent, DoNotTrackWinsOverConsentAndStatusNamesIt) {
  DaemonHarness h;
  ASSERT_TRUE(h.start({{"DO_NOT_TRACK", "1"}}));
  h.enable();
  TestClient c = h.client();
  c.hello();
  EXPECT_EQ(track(c, kCrash)["reason"], "kill_switch");
  json status = h.status();
  EXPECT_FALSE(status["enabled"].get<bool>());
  EXPECT_EQ(status["overriddenBy"], "DO_NOT_TRACK");
  EXPECT_EQ(h.entries().size(), 0u);
}

TEST(Consent, DollhouseTelemetryOffWins) {
  DaemonHarness h;
  ASSERT_TRUE(h.start({{"DOLLHOUSE_TELEMETRY", "off"}}));
  h.enable();
  EXPECT_EQ(h.status()["overriddenBy"], "DOLLHOUSE_TELEMETRY");
}

TEST(Consent, CiIsOffUnlessTelemetryIsExplicitlyOn) {
  {
    DaemonHarness h;
    ASSERT_TRUE(h.start({{"GITHUB_ACTIONS", "true"}}));
    h.enable();
    EXPECT_EQ(h.status()["overriddenBy"], "CI");
  }
  {
    DaemonHarness h;
    ASSERT_TRUE(h.start({{"CI", "true"}, {"DOLLHOUSE_TELEMETRY", "true"}}));
    h.enable();
    json status = h.status();
    EXPECT_EQ(status["overriddenBy"], nullptr);
    EXPECT_TRUE(status["enabled"].get<bool>());
  }
}

TEST(Consent, ConsentForAnOlderPolicyIsVoid) {
  DaemonHarness h;
  ::mkdir(h.root().c_str(), 0700);
  {
    std::ofstream(h.root() + "/telemetry.json") << json{
        {"installId", "550e8400-e29b-41d4-a716-446655440000"},
        {"enabled", true},
        {"consentGiven", true},
        {"consentTimestamp", "2025-10-15T10:30:00Z"},
        {"policyVersion", "0.9"}}.dump();
  }
  ASSERT_TRUE(h.start());
  json status = h.status();
  EXPECT_FALSE(status["enabled"].get<bool>());
  EXPECT_EQ(status["blockedBy"], "policy_outdated");
  TestClient c = h.client();
  c.hello();
  EXPECT_EQ(track(c, kCrash)["reason"], "policy_outdated");
  // Consent to the older text is refused; consent to the current one restores collection.
  EXPECT_EQ(
      c.request({{"op", "consent"}, {"enabled", true}, {"policyVersion", "0.9"}})["error"]["code"],
      "policy_outdated");
  EXPECT_TRUE(c.request({{"op", "consent"}, {"enabled", true}, {"policyVersion", "1.0"}})["ok"]
                  .get<bool>());
  EXPECT_TRUE(track(c, kCrash)["accepted"].get<bool>());
  EXPECT_EQ(h.status()["installId"], "550e8400-e29b-41d4-a716-446655440000");
}

TEST(Consent, CategoryOffIsNotStoredAndCounted) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  h.enable({{"level", "crash"}});
  TestClient c = h.client();
  c.hello();
  EXPECT_EQ(track(c, kInstallation)["reason"], "category_off");
  EXPECT_TRUE(track(c, kCrash)["accepted"].get<bool>());
  EXPECT_EQ(c.request({{"op", "usage"}, {"counters", {{"sessions", 1}}}})["reason"],
            "category_off");
  json status = h.status();
  EXPECT_EQ(status["level"], "crash");
  EXPECT_EQ(status["queue"]["dropped"]["category_off"], 2);
  EXPECT_EQ(h.entries().size(), 1u);
}

TEST(Consent, SwitchingACategoryOffDropsItsUnsentEvents) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  h.enable();
  TestClient c = h.client();
  c.hello();
  track(c, kInstallation);
  track(c, kCrash);
  json reply = h.enable({{"categories", {{"installation", false}}}});
  ASSERT_TRUE(reply["ok"].get<bool>());
  EXPECT_EQ(reply["droppedUnsent"], 1);
  json entries = h.entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["eventType"], "crash");
}

TEST(Consent, InvalidConsentRequestsAreRefusedWithoutChange) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  TestClient c = h.client();
  EXPECT_EQ(c.request({{"op", "consent"}})["error"]["code"], "invalid_request");
  EXPECT_EQ(c.request({{"op", "consent"}, {"enabled", true}, {"level", "most"}})["error"]["code"],
            "invalid_request");
  EXPECT_EQ(
      c.request(
          {{"op", "consent"}, {"enabled", true}, {"categories", {{"gps", true}}}})["error"]["code"],
      "invalid_request");
  EXPECT_FALSE(h.status()["consent"]["given"].get<bool>());
}

}  // namespace
}  // namespace dollhouse::testing
