// dollhousectl as a user runs it: output, --json, exit codes, starting the daemon on demand.
#include <signal.h>
#include <sys/stat.h>

#include <fstream>

#include <gtest/gtest.h>

#include "tests/support/daemon_harness.hpp"

namespace dollhouse::testing {
namespace {

using nlohmann::json;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(Ctl, UnreachableDaemonWithNoStartExitsThreeWithAHint) {
  DaemonHarness h;
  RunResult r = h.ctl({"--no-start", "telemetry", "status"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_TRUE(contains(r.err, "daemon not running")) << r.err;
  EXPECT_TRUE(contains(r.err, "dollhouse-telemetryd")) << r.err;
}

TEST(Ctl, UsageErrorsExitTwo) {
  DaemonHarness h;
  EXPECT_EQ(h.ctl({"telemetry", "frobnicate"}).exit_code, 2);
  EXPECT_EQ(h.ctl({"telemetry", "delete"}).exit_code, 2);
  EXPECT_EQ(h.ctl({"telemetry", "delete", "--local", "--remote"}).exit_code, 2);
  EXPECT_EQ(h.ctl({"telemetry", "show", "--limit", "0"}).exit_code, 2);
  EXPECT_EQ(h.ctl({"telemetry", "show", "--since", "yesterday"}).exit_code, 2);
  EXPECT_EQ(h.ctl({"telemetry", "enable", "--only-crashes", "--only-installations"}).exit_code, 2);
  RunResult help = h.ctl({"telemetry", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_TRUE(contains(help.out, "status"));
}

TEST(Ctl, StartsTheDaemonWhenItIsNotRunningAndSaysSo) {
  DaemonHarness h;
  RunResult r = h.ctl({"telemetry", "status"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "started it")) << r.err;
  EXPECT_TRUE(contains(r.out, "off: no consent given")) << r.out;
  EXPECT_TRUE(contains(r.out, "dollhousectl telemetry enable")) << r.out;
  // Stop the daemon it started.
  json status = h.status();
  ASSERT_TRUE(status["ok"].get<bool>());
  ::kill(status["daemon"]["pid"].get<int>(), SIGTERM);
}

TEST(Ctl, StatusJsonCarriesTheDocumentedFields) {
  DaemonHarness h;
  ASSERT_TRUE(h.start({{"DO_NOT_TRACK", "1"}}));
  RunResult r = h.ctl({"telemetry", "status", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json s = json::parse(r.out);
  for (const char* key :
       {"enabled", "overriddenBy", "consent", "categories", "installId", "queue", "upload"}) {
    EXPECT_TRUE(s.contains(key)) << key;
  }
  for (const char* key : {"given", "timestamp", "policyVersion"}) {
    EXPECT_TRUE(s["consent"].contains(key)) << key;
  }
  for (const char* key : {"pending", "sent", "dropped"}) EXPECT_TRUE(s["queue"].contains(key));
  for (const char* key :
       {"endpoint", "lastSuccess", "lastError", "nextAttempt", "consecutiveFailures"}) {
    EXPECT_TRUE(s["upload"].contains(key)) << key;
  }
  EXPECT_EQ(s["overriddenBy"], "DO_NOT_TRACK");
  RunResult human = h.ctl({"telemetry", "status"});
  EXPECT_TRUE(contains(human.out, "DO_NOT_TRACK")) << human.out;
}

TEST(Ctl, ShowIsEmptyBeforeEnableAndListsEventsAfter) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  const json crash = {{"eventType", "crash"},     {"errorType", "runtime"},
                      {"errorCategory", "EPIPE"}, {"errorMessage", "pipe closed"},
                      {"component", "MCPServer"}, {"recovered", false}};
  TestClient c = h.client();
  c.hello();
  c.request({{"op", "track"}, {"event", crash}});
  RunResult before = h.ctl({"telemetry", "show", "--json"});
  ASSERT_EQ(before.exit_code, 0);
  EXPECT_EQ(json::parse(before.out).size(), 0u);

  RunResult enable = h.ctl({"telemetry", "enable", "--no-performance"});
  ASSERT_EQ(enable.exit_code, 0) << enable.err;
  EXPECT_TRUE(contains(enable.out, "Telemetry enabled"));
  c.request({{"op", "track"}, {"event", crash}});
  c.request({{"op", "sync"}});
  RunResult after = h.ctl({"telemetry", "show", "--json"});
  json log = json::parse(after.out);
  ASSERT_EQ(log.size(), 1u);
  for (const char* key : {"timestamp", "eventType", "data", "sentToServer"}) {
    EXPECT_TRUE(log[0].contains(key)) << key;
  }
  RunResult human = h.ctl({"telemetry", "show"});
  EXPECT_TRUE(contains(human.out, "MCPServer")) << human.out;
  json status = json::parse(h.ctl({"telemetry", "status", "--json"}).out);
  EXPECT_FALSE(status["categories"]["performance"].get<bool>());
}

TEST(Ctl, DisableAndDeleteLocal) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  ASSERT_EQ(h.ctl({"telemetry", "enable"}).exit_code, 0);
  TestClient c = h.client();
  c.hello();
  c.request({{"op", "track"},
             {"event",
              {{"eventType", "installation"},
               {"installMethod", "npx"},
               {"installType", "upgrade"},
               {"previousVersion", "1.9.15"}}}});
  RunResult del = h.ctl({"telemetry", "delete", "--local"});
  EXPECT_EQ(del.exit_code, 0) << del.err;
  EXPECT_TRUE(contains(del.out, "Deleted 1 event")) << del.out;
  EXPECT_EQ(h.entries().size(), 0u);
  std::string old_id = h.status()["installId"];
  RunResult remote = h.ctl({"telemetry", "delete", "--remote"});
  EXPECT_EQ(remote.exit_code, 0) << remote.err;
  EXPECT_TRUE(contains(remote.out, "Asked the server")) << remote.out;
  json status = h.status();
  EXPECT_NE(status["installId"], old_id) << "rotated";
  EXPECT_TRUE(contains(h.ctl({"telemetry", "status"}).out, "Server deletion")) << "shown";
  RunResult disable = h.ctl({"telemetry", "disable"});
  EXPECT_EQ(disable.exit_code, 0);
  EXPECT_TRUE(contains(disable.out, "Telemetry disabled"));
  EXPECT_FALSE(h.status()["enabled"].get<bool>());
}

TEST(Ctl, ExportWritesAPrivateFileWithEverything) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  h.ctl({"telemetry", "enable"});
  TestClient c = h.client();
  c.hello();
  c.request(
      {{"op", "track"},
       {"event",
        {{"eventType", "installation"}, {"installMethod", "git-clone"}, {"installType", "new"}}}});
  c.request({{"op", "usage"}, {"counters", {{"skillsUsed", 2}}}});
  std::string out = h.dir().file("export.json");
  RunResult r = h.ctl({"telemetry", "export", "--output", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(::stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(out);
  json doc = json::parse(in);
  EXPECT_EQ(doc["events"].size(), 1u);
  EXPECT_TRUE(doc["config"]["consentGiven"].get<bool>());
  ASSERT_EQ(doc["usageInProgress"].size(), 1u);
  EXPECT_EQ(doc["usageInProgress"][0]["totals"]["counters"]["skillsUsed"], 2);
}

TEST(Ctl, ConsentWithoutATerminalRecordsNo) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  RunResult r = h.ctl({"telemetry", "consent"}, {}, "y\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "Never collected")) << r.out;
  EXPECT_TRUE(contains(r.out, "not a terminal")) << r.out;
  json status = h.status();
  EXPECT_FALSE(status["consent"]["given"].get<bool>());
  EXPECT_FALSE(status["enabled"].get<bool>());
}

TEST(Ctl, FlushReportsAFailedUploadAndExitsOne) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());  // its ingestion URL is a loopback port where nothing listens
  h.enable();
  TestClient c = h.client();
  c.hello();
  c.request({{"op", "track"},
             {"event",
              {{"eventType", "installation"}, {"installMethod", "npm"}, {"installType", "new"}}}});
  RunResult r = h.ctl({"telemetry", "flush"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(contains(r.out, "Sent")) << r.out;
  EXPECT_FALSE(contains(r.out, "Nothing to send")) << r.out;
  EXPECT_TRUE(contains(r.err, "upload failed")) << r.err;
  EXPECT_TRUE(contains(r.err, "tries again")) << r.err;
  RunResult status = h.ctl({"telemetry", "status"});
  EXPECT_TRUE(contains(status.out, "1 failure in a row")) << status.out;
}

}  // namespace
}  // namespace dollhouse::testing
