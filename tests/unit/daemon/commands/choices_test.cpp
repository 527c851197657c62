// The user's answer in three states, per-app switches, the installation reports apps make before
// the answer, and the config and shutdown ops: through the real commands on a real queue.
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

json consent(CommandFixture& f, json fields) {
  auto c = std::make_shared<RecordedConnection>();
  fields["op"] = "consent";
  json reply = f.run(c, fields);
  EXPECT_TRUE(reply.value("ok", false)) << reply.dump();
  return reply;
}

json status(CommandFixture& f) {
  auto c = std::make_shared<RecordedConnection>();
  json reply = f.run(c, {{"op", "status"}});
  EXPECT_TRUE(reply.value("ok", false)) << reply.dump();
  return reply;
}

const json kInstallation = {
    {"eventType", "installation"}, {"installMethod", "npm"}, {"installType", "new"}};

// A hello that reports the app's installation, as an app does on every start until told it
// was counted.
json hello_with_setup(CommandFixture& f, const std::string& app = "dollhousemcp") {
  auto c = std::make_shared<RecordedConnection>();
  json reply = f.run(c, {{"op", "hello"},
                         {"app", app},
                         {"appVersion", "1.9.16"},
                         {"setup", json::array({kInstallation})}});
  EXPECT_TRUE(reply.value("ok", false)) << reply.dump();
  return reply;
}

std::size_t installations_stored(CommandFixture& f) {
  std::size_t n = 0;
  for (const auto& e : f.shown()) n += e["eventType"] == "installation" ? 1 : 0;
  return n;
}

TEST(ConsentStates, AFirstNoIsADeclineAndANoAfterAYesIsAWithdrawal) {
  CommandFixture f;
  EXPECT_EQ(status(f)["consent"]["state"], "not_answered");
  EXPECT_EQ(consent(f, {{"enabled", false}})["consent"]["state"], "declined");
  EXPECT_EQ(status(f)["consent"]["state"], "declined");
  EXPECT_EQ(config_file(f)["consentState"], "declined");
  EXPECT_EQ(consent(f, {{"enabled", true}})["consent"]["state"], "given");
  EXPECT_EQ(consent(f, {{"enabled", false}})["consent"]["state"], "withdrawn");
  EXPECT_EQ(config_file(f)["consentState"], "withdrawn");
  // Saying no again stays a withdrawal: the user did say yes once.
  EXPECT_EQ(consent(f, {{"enabled", false}})["consent"]["state"], "withdrawn");
}

TEST(ConsentStates, AFileWithoutTheStateIsReadFromItsOtherFields) {
  json never = {{"consentGiven", false}};
  json declined = {{"consentGiven", false}, {"consentTimestamp", "2026-11-01T00:00:00Z"}};
  json withdrawn = declined;
  withdrawn["installId"] = "8d234ead-c204-45c1-8c85-98ebfc74f424";
  EXPECT_EQ(config_from_json(never)->answer, ipc::ConsentAnswer::kNotAnswered);
  EXPECT_EQ(config_from_json(declined)->answer, ipc::ConsentAnswer::kDeclined);
  EXPECT_EQ(config_from_json(withdrawn)->answer, ipc::ConsentAnswer::kWithdrawn);
  // A state that claims a yes the seed's switch denies is read as a withdrawal, never as yes.
  json contradicting = {{"consentGiven", false}, {"consentState", "given"}};
  EXPECT_EQ(config_from_json(contradicting)->answer, ipc::ConsentAnswer::kWithdrawn);
  EXPECT_FALSE(config_from_json(json{{"consentState", "maybe"}}));
}

TEST(AppSwitch, DisablingOneAppDropsOnlyItsUnsentEventsAndRefusesItsNewOnes) {
  CommandFixture f;
  f.give_consent();
  auto mcp = f.hello_connection("dollhousemcp");
  auto demo = f.hello_connection("demo");
  f.run(mcp, {{"op", "track"}, {"event", error_event()}});
  f.run(demo, {{"op", "track"}, {"event", error_event()}});
  f.run(demo, {{"op", "track"}, {"event", error_event()}});
  json reply = consent(f, {{"enabled", false}, {"app", "demo"}});
  EXPECT_EQ(reply["droppedUnsent"], 2);
  EXPECT_EQ(reply["app"]["enabled"], false);
  EXPECT_EQ(reply["consent"]["state"], "given") << "the answer for all apps is unchanged";
  EXPECT_EQ(config_file(f)["apps"]["demo"]["enabled"], false);
  json refused = f.run(demo, {{"op", "track"}, {"event", error_event()}});
  EXPECT_EQ(refused["accepted"], false);
  EXPECT_EQ(refused["reason"], "app_off");
  EXPECT_EQ(f.run(mcp, {{"op", "track"}, {"event", error_event()}})["accepted"], true);
  json shown = f.shown();
  ASSERT_EQ(shown.size(), 2u);
  for (const auto& e : shown) EXPECT_EQ(e["data"]["app"], "dollhousemcp");

  json apps = status(f)["apps"];
  ASSERT_EQ(apps.size(), 2u);
  EXPECT_EQ(apps[0]["name"], "demo");
  EXPECT_EQ(apps[0]["enabled"], false);
  EXPECT_EQ(apps[0]["pending"], 0);
  EXPECT_EQ(apps[0]["accepted"], 2);
  EXPECT_EQ(apps[0]["dropped"], 1);
  EXPECT_EQ(apps[1]["name"], "dollhousemcp");
  EXPECT_EQ(apps[1]["pending"], 2);

  consent(f, {{"enabled", true}, {"app", "demo"}});
  EXPECT_EQ(f.run(demo, {{"op", "track"}, {"event", error_event()}})["accepted"], true);
  EXPECT_FALSE(config_file(f)["apps"].contains("demo")) << "an app back on needs no entry";
}

TEST(AppSwitch, AnInvalidAppNameIsRefused) {
  CommandFixture f;
  auto c = std::make_shared<RecordedConnection>();
  json reply = f.run(c, {{"op", "consent"}, {"enabled", false}, {"app", "no spaces"}});
  EXPECT_EQ(reply["error"]["code"], "invalid_request");
}

TEST(SetupReports, AnInstallationBeforeTheAnswerIsHeldInMemoryAndCountedOnceAfterAYes) {
  CommandFixture f;
  json hello = hello_with_setup(f);
  EXPECT_EQ(hello["setup"]["installation"], "pending");
  EXPECT_EQ(installations_stored(f), 0u);
  EXPECT_FALSE(std::ifstream(f.config_path).good()) << "nothing on disk before the answer";
  // The app started again while the question is open: the same fact, still one.
  EXPECT_EQ(hello_with_setup(f)["setup"]["installation"], "pending");
  f.give_consent();
  f.run_until([&] { return installations_stored(f) == 1; });
  json stored = f.shown()[0]["data"];
  EXPECT_EQ(stored["app"], "dollhousemcp");
  EXPECT_EQ(stored["installId"], f.consent.config().install_id);
  EXPECT_EQ(stored["installMethod"], "npm");
  // Later hellos with the same report do not count it again.
  EXPECT_EQ(hello_with_setup(f)["setup"]["installation"], "already_counted");
  EXPECT_EQ(installations_stored(f), 1u);
  EXPECT_EQ(config_file(f)["apps"]["dollhousemcp"]["countedSetup"], json::array({"installation"}));
}

TEST(SetupReports, ANoForgetsThemAndLaterHellosAreNotCollected) {
  CommandFixture f;
  hello_with_setup(f);
  consent(f, {{"enabled", false}});
  EXPECT_EQ(hello_with_setup(f)["setup"]["installation"], "not_collected");
  consent(f, {{"enabled", true}});
  EXPECT_EQ(installations_stored(f), 0u) << "the report made before the no never counts";
}

TEST(SetupReports, AfterConsentTheyAreCountedAtTheHello) {
  CommandFixture f;
  f.give_consent();
  EXPECT_EQ(hello_with_setup(f, "demo")["setup"]["installation"], "counted");
  f.run_until([&] { return installations_stored(f) == 1; });
  json update = {{"eventType", "update"},
                 {"fromVersion", "1.9.15"},
                 {"toVersion", "1.9.16"},
                 {"success", true},
                 {"durationMs", 1200}};
  auto c = std::make_shared<RecordedConnection>();
  json reply =
      f.run(c, {{"op", "hello"},
                {"app", "demo"},
                {"appVersion", "1.9.16"},
                {"setup", json::array({kInstallation, update, {{"eventType", "crash"}}})}});
  EXPECT_EQ(reply["setup"]["installation"], "already_counted");
  EXPECT_EQ(reply["setup"]["update 1.9.16"], "counted");
  EXPECT_TRUE(reply["setup"]["invalid"].is_string()) << reply.dump();
}

TEST(ConfigCommand, GetShowsTheSettingsAndSetValidatesEachOne) {
  CommandFixture f;
  auto c = std::make_shared<RecordedConnection>();
  json got = f.run(c, {{"op", "config"}});
  ASSERT_TRUE(got["ok"].get<bool>()) << got.dump();
  EXPECT_EQ(got["config"]["maxDataRetention"], kDefaultMaxDataRetention);
  EXPECT_EQ(got["config"]["level"], "all");
  for (const json& bad : {json{{"maxDataRetention", 0}}, json{{"maxDataRetention", "30"}},
                          json{{"endpoint", "ftp://example.org"}}, json{{"level", "most"}},
                          json{{"colour", "blue"}}}) {
    json reply = f.run(c, {{"op", "config"}, {"set", bad}});
    EXPECT_EQ(reply["error"]["code"], "invalid_request") << bad.dump();
  }
  EXPECT_EQ(f.consent.config().max_data_retention, kDefaultMaxDataRetention);
}

TEST(ConfigCommand, AShorterRetentionPrunesAtOnce) {
  CommandFixture f;
  f.give_consent();
  auto app = f.hello_connection();
  f.run(app, {{"op", "track"}, {"event", error_event()}});
  f.clock.advance(std::chrono::hours(24 * 10));
  f.run(app, {{"op", "track"}, {"event", error_event()}});
  auto c = std::make_shared<RecordedConnection>();
  json reply = f.run(c, {{"op", "config"}, {"set", {{"maxDataRetention", 7}}}});
  ASSERT_TRUE(reply["ok"].get<bool>()) << reply.dump();
  EXPECT_EQ(reply["pruned"], 1);
  EXPECT_EQ(reply["config"]["maxDataRetention"], 7);
  EXPECT_EQ(f.shown().size(), 1u);
  EXPECT_EQ(config_file(f)["maxDataRetention"], 7);
}

TEST(ConfigCommand, ALowerLevelDeletesWhatItSwitchedOffAndANewEndpointIsUsed) {
  CommandFixture f;
  f.give_consent();
  auto app = f.hello_connection();
  f.run(app, {{"op", "track"}, {"event", error_event()}});
  f.run(app, {{"op", "track"}, {"event", kInstallation}});
  auto c = std::make_shared<RecordedConnection>();
  json reply = f.run(
      c, {{"op", "config"}, {"set", {{"level", "error"}, {"endpoint", "https://example.org/in"}}}});
  ASSERT_TRUE(reply["ok"].get<bool>()) << reply.dump();
  EXPECT_EQ(reply["droppedUnsent"], 1);
  EXPECT_EQ(reply["config"]["level"], "error");
  EXPECT_EQ(f.uploader.endpoint(), "https://example.org/in");
  EXPECT_EQ(config_file(f)["endpoint"], "https://example.org/in");
  EXPECT_EQ(f.consent.config().answer, ipc::ConsentAnswer::kGiven) << "consent untouched";
}

TEST(ShutdownCommand, RepliesThenAsksTheDaemonToStop) {
  CommandFixture f;
  auto c = std::make_shared<RecordedConnection>();
  json reply = f.run(c, {{"op", "shutdown"}});
  EXPECT_EQ(reply["stopping"], true);
  EXPECT_EQ(reply["pid"], 4242);
  EXPECT_EQ(f.stop_requests, 1);
}

TEST(ShowCommand, SaysHowManyMatchAndTheConsentState) {
  CommandFixture f;
  f.give_consent();
  auto app = f.hello_connection();
  for (int i = 0; i < 3; ++i) f.run(app, {{"op", "track"}, {"event", error_event()}});
  auto c = std::make_shared<RecordedConnection>();
  json reply = f.run(c, {{"op", "show"}, {"limit", 2}});
  EXPECT_EQ(reply["entries"].size(), 2u);
  EXPECT_EQ(reply["total"], 3);
  EXPECT_EQ(reply["consent"]["state"], "given");
}

TEST(ExportCommand, ActiveDaysIsACountOfDays) {
  CommandFixture f;
  f.give_consent();
  auto app = f.hello_connection();
  f.run(app, {{"op", "usage"}, {"counters", {{"sessions", 1}}}});
  f.clock.advance(std::chrono::hours(24));
  f.run(app, {{"op", "usage"}, {"counters", {{"sessions", 1}}}});
  auto c = std::make_shared<RecordedConnection>();
  json reply = f.run(c, {{"op", "export"}});
  ASSERT_TRUE(reply["ok"].get<bool>()) << reply.dump();
  ASSERT_EQ(reply["export"]["usageInProgress"].size(), 1u);
  EXPECT_EQ(reply["export"]["usageInProgress"][0]["totals"]["activeDays"], 2);
  EXPECT_EQ(reply["export"]["config"]["consentState"], "given");
}

}  // namespace
}  // namespace dollhouse::daemon::testing

namespace dollhouse::daemon::testing {
namespace {

TEST(UploadSchedule, AStoredAttemptAYearAheadIsWaitedForAtMostTheLongestLegitimateWait) {
  // The wall clock was set back a year after the schedule was stored: the stored attempt lies a
  // year ahead. The daemon must not stall for a year.
  CommandFixture f;
  const UploadSettings settings = default_upload_settings();
  Uploader uploader(f.io, f.storage, f.clock, f.random, ::dollhouse::testing::kRefusedEndpoint, "",
                    settings, [] { return std::optional<ipc::Blocker>(); });
  UploadSnapshot snapshot;
  const std::int64_t a_year_ms = std::int64_t{365} * 24 * 3600 * 1000;
  snapshot.state = {{"consecutiveFailures", 3},
                    {"nextAttemptMs", to_unix_millis(f.clock.now()) + a_year_ms}};
  snapshot.pending_events = 1;
  uploader.start(snapshot);
  SystemTime next;
  ASSERT_TRUE(parse_iso8601(uploader.status_json()["nextAttempt"].get<std::string>(), next));
  EXPECT_LE(next - f.clock.now(), std::max(settings.backoff_cap, settings.max_retry_after));
  EXPECT_GT(next, f.clock.now()) << "the backoff itself is kept";
}

}  // namespace
}  // namespace dollhouse::daemon::testing
