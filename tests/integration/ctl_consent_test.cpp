// Consent and the commands around it, through the real daemon and the real dollhousectl: the
// three answers shown as such, the consent box built from what the daemon knows, one app
// switched off on its own, installations reported before the answer, a kill switch in the
// caller's shell, the daemon commands, config get|set, and flush saying what happened against a
// real HTTP server on loopback.
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/support/daemon_harness.hpp"
#include "tests/support/endpoints.hpp"
#include "tests/support/scripted_server.hpp"
#include "tests/support/wait.hpp"

namespace dollhouse::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

const json kCrash = {{"eventType", "crash"},     {"errorType", "runtime"},
                     {"errorCategory", "EPIPE"}, {"errorMessage", "pipe closed"},
                     {"component", "MCPServer"}, {"recovered", false}};
const json kInstallation = {
    {"eventType", "installation"}, {"installMethod", "npm"}, {"installType", "new"}};

// The environment of a dollhousectl that may start a daemon: uploads go nowhere.
Env ctl_env(const DaemonHarness& h, const Env& extra = {}) {
  Env e = h.env(extra);
  if (e.count("DOLLHOUSE_TELEMETRY_ENDPOINT") == 0) {
    e["DOLLHOUSE_TELEMETRY_ENDPOINT"] = kRefusedEndpoint;
  }
  return e;
}

// A --json command's standard output (discarded json when it is not JSON).
json ctl_json(const DaemonHarness& h, std::vector<std::string> args) {
  args.push_back("--json");
  RunResult r = h.ctl(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return json::parse(r.out, nullptr, false);
}

json status_json(const DaemonHarness& h) {
  return ctl_json(h, {"telemetry", "status"});
}

// The entry of `status --json` for one app (null when it is not listed).
json app_entry(const json& status, const std::string& name) {
  for (const auto& a : status.value("apps", json::array())) {
    if (a.value("name", "") == name) return a;
  }
  return nullptr;
}

json read_json_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str(), nullptr, false);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The lines of `text` that contain `needle`.
std::vector<std::string> lines_with(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (contains(line, needle)) out.push_back(line);
  }
  return out;
}

// An app's client as clientlib would be: connected, with its hello answered.
TestClient app_client(const DaemonHarness& h, const std::string& app) {
  TestClient c = h.client();
  EXPECT_TRUE(c.connected());
  json reply = c.hello(app);
  EXPECT_TRUE(reply.value("ok", false)) << reply;
  return c;
}

// An app's hello that restates an installation made before the user answered.
json hello_with_installation(TestClient& c, const std::string& app) {
  return c.request({{"op", "hello"},
                    {"app", app},
                    {"appVersion", "1.2.3"},
                    {"setup", json::array({kInstallation})}});
}

void track_crashes(TestClient& c, int n) {
  for (int i = 0; i < n; ++i) {
    json e = kCrash;
    e["errorMessage"] = "pipe closed " + std::to_string(i);
    json reply = c.request({{"op", "track"}, {"event", e}});
    ASSERT_TRUE(reply.value("accepted", false)) << reply;
  }
}

// --- the three answers ----------------------------------------------------------------------

TEST(CtlConsent, NotAnsweredDeclinedAndWithdrawnAreShownAsSuchEverywhere) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  auto expect_state = [&h](const std::string& state, const std::string& words) {
    RunResult human = h.ctl({"telemetry", "status"});
    EXPECT_EQ(human.exit_code, 0) << human.err;
    ASSERT_EQ(lines_with(human.out, "Consent:").size(), 1u) << human.out;
    EXPECT_TRUE(contains(lines_with(human.out, "Consent:")[0], words)) << state << "\n"
                                                                       << human.out;
    EXPECT_EQ(status_json(h)["consent"]["state"], state);
    RunResult exported = h.ctl({"telemetry", "export"});
    ASSERT_EQ(exported.exit_code, 0) << exported.err;
    json doc = json::parse(exported.out, nullptr, false);
    ASSERT_TRUE(doc.is_object()) << exported.out;
    EXPECT_EQ(doc["config"]["consentState"], state);
  };
  expect_state("not_answered", "not answered yet");

  ASSERT_EQ(h.ctl({"telemetry", "disable"}).exit_code, 0);
  expect_state("declined", "declined");
  EXPECT_TRUE(contains(h.ctl({"telemetry", "status"}).out, "off: you declined"));

  ASSERT_EQ(h.ctl({"telemetry", "enable"}).exit_code, 0);
  expect_state("given", "given");

  ASSERT_EQ(h.ctl({"telemetry", "disable"}).exit_code, 0);
  expect_state("withdrawn", "withdrawn");
  EXPECT_TRUE(contains(h.ctl({"telemetry", "status"}).out, "off: you withdrew consent"));
}

// --- the consent box ------------------------------------------------------------------------

constexpr const char* kExampleEndpoint = "https://telemetry.example.org/api/v1/telemetry";

TEST(CtlConsent, TheBoxNamesTheAppsThatSaidHelloTheServerTheRandomIdAndThePolicy) {
  DaemonHarness h;
  ASSERT_TRUE(h.start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", kExampleEndpoint}}));
  TestClient mcp = app_client(h, "dollhousemcp");
  TestClient demo = app_client(h, "demo-app");

  RunResult r = h.ctl({"telemetry", "consent"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> for_lines = lines_with(r.out, "For: ");
  ASSERT_EQ(for_lines.size(), 1u) << r.out;
  EXPECT_TRUE(contains(for_lines[0], "dollhousemcp")) << for_lines[0];
  EXPECT_TRUE(contains(for_lines[0], "demo-app")) << for_lines[0];
  EXPECT_TRUE(contains(r.out, "Sent to: telemetry.example.org")) << r.out;
  EXPECT_TRUE(contains(r.out, "random installation ID")) << r.out;
  EXPECT_TRUE(contains(r.out, "https://dollhousemcp.com/privacy/telemetry")) << r.out;

  RunResult one = h.ctl({"telemetry", "consent", "--app", "other-app"});
  EXPECT_EQ(one.exit_code, 0) << one.err;
  const std::vector<std::string> one_for = lines_with(one.out, "For: ");
  ASSERT_EQ(one_for.size(), 1u) << one.out;
  EXPECT_TRUE(contains(one_for[0], "For: other-app ")) << one_for[0];
  EXPECT_FALSE(contains(one.out, "demo-app")) << one.out;
  EXPECT_FALSE(contains(one_for[0], "dollhousemcp")) << one_for[0];
}

TEST(CtlConsent, TheBoxNamesNoAppThatNeverSaidHello) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  TestClient demo = app_client(h, "demo-app");
  RunResult r = h.ctl({"telemetry", "consent"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> for_lines = lines_with(r.out, "For: ");
  ASSERT_EQ(for_lines.size(), 1u) << r.out;
  EXPECT_TRUE(contains(for_lines[0], "For: demo-app ")) << for_lines[0];
  EXPECT_FALSE(contains(r.out, "DollhouseMCP")) << r.out;
  EXPECT_FALSE(contains(r.out, "dollhousemcp,")) << r.out;
  EXPECT_FALSE(contains(for_lines[0], "dollhousemcp")) << for_lines[0];
  // Nothing was recorded: standard input is not a terminal.
  EXPECT_EQ(status_json(h)["consent"]["state"], "not_answered");
}

TEST(CtlConsent, TheBoxAfterARestartNamesTheAppsWhoseEventsAreStored) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  ASSERT_EQ(h.ctl({"telemetry", "enable"}).exit_code, 0);
  {
    TestClient demo = app_client(h, "demo-app");
    track_crashes(demo, 1);
  }
  ASSERT_EQ(h.stop(), 0);
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(app_entry(status_json(h), "demo-app").is_object()) << "status lists it";

  RunResult r = h.ctl({"telemetry", "consent"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(contains(r.out, "none has reported yet")) << r.out;
  const std::vector<std::string> for_lines = lines_with(r.out, "For: ");
  ASSERT_EQ(for_lines.size(), 1u) << r.out;
  EXPECT_TRUE(contains(for_lines[0], "demo-app")) << r.out;
}

// --- one app switched off -------------------------------------------------------------------

TEST(CtlConsent, SwitchingOneAppOffDropsOnlyItsUnsentEventsAndRefusesItsNewOnes) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  ASSERT_EQ(h.ctl({"telemetry", "enable"}).exit_code, 0);
  TestClient mcp = app_client(h, "dollhousemcp");
  TestClient demo = app_client(h, "demo-app");
  track_crashes(mcp, 2);
  track_crashes(demo, 3);

  json before = status_json(h);
  for (const auto& [name, pending] : {std::pair{"dollhousemcp", 2}, std::pair{"demo-app", 3}}) {
    json a = app_entry(before, name);
    ASSERT_TRUE(a.is_object()) << name << " " << before["apps"];
    for (const char* key : {"name", "enabled", "pending", "sent", "accepted", "dropped"}) {
      EXPECT_TRUE(a.contains(key)) << name << " lacks " << key << ": " << a;
    }
    EXPECT_EQ(a["enabled"], true) << a;
    EXPECT_EQ(a["pending"], pending) << a;
    EXPECT_EQ(a["sent"], 0) << a;
    EXPECT_EQ(a["accepted"], pending) << a;
  }

  RunResult off = h.ctl({"telemetry", "disable", "--app", "demo-app"});
  EXPECT_EQ(off.exit_code, 0) << off.err;
  EXPECT_TRUE(contains(off.out, "Telemetry for demo-app is off")) << off.out;
  EXPECT_TRUE(contains(off.out, "Deleted 3 queued events")) << off.out;

  json after = status_json(h);
  EXPECT_EQ(after["consent"]["state"], "given") << "the answer for all apps stays";
  EXPECT_EQ(app_entry(after, "demo-app")["enabled"], false);
  EXPECT_EQ(app_entry(after, "demo-app")["pending"], 0);
  EXPECT_EQ(app_entry(after, "dollhousemcp")["enabled"], true);
  EXPECT_EQ(app_entry(after, "dollhousemcp")["pending"], 2);
  EXPECT_EQ(after["queue"]["pending"], 2);

  json refused = demo.request({{"op", "track"}, {"event", kCrash}});
  EXPECT_EQ(refused["accepted"], false) << refused;
  EXPECT_EQ(refused["reason"], "app_off") << refused;
  json kept = mcp.request({{"op", "track"}, {"event", kCrash}});
  EXPECT_EQ(kept["accepted"], true) << kept;
  json later = status_json(h);
  EXPECT_EQ(app_entry(later, "dollhousemcp")["pending"], 3);
  EXPECT_EQ(app_entry(later, "demo-app")["pending"], 0);
  EXPECT_GE(app_entry(later, "demo-app")["dropped"].get<int>(), 1);

  RunResult human = h.ctl({"telemetry", "status"});
  EXPECT_TRUE(contains(human.out, "dollhousemcp 1.2.3: on")) << human.out;
  EXPECT_TRUE(contains(human.out, "demo-app 1.2.3: off")) << human.out;

  RunResult on = h.ctl({"telemetry", "enable", "--app", "demo-app"});
  EXPECT_EQ(on.exit_code, 0) << on.err;
  EXPECT_TRUE(contains(on.out, "Telemetry for demo-app is allowed again")) << on.out;
  json again = demo.request({{"op", "track"}, {"event", kCrash}});
  EXPECT_EQ(again["accepted"], true) << again;
  json last = status_json(h);
  EXPECT_EQ(app_entry(last, "demo-app")["enabled"], true);
  EXPECT_EQ(app_entry(last, "demo-app")["pending"], 1);
  EXPECT_TRUE(contains(h.ctl({"telemetry", "status"}).out, "demo-app 1.2.3: on"));

  json log = ctl_json(h, {"telemetry", "show"});
  ASSERT_TRUE(log.is_array());
  EXPECT_EQ(log.size(), 4u);
  for (const auto& entry : log) {
    ASSERT_TRUE(entry["data"].contains("app")) << entry;
    const std::string app = entry["data"]["app"];
    EXPECT_TRUE(app == "dollhousemcp" || app == "demo-app") << entry;
  }
}

// --- installations reported before the answer -----------------------------------------------

int installations_of(const json& log, const std::string& app) {
  int n = 0;
  for (const auto& entry : log) {
    if (entry.value("eventType", "") == "installation" && entry["data"].value("app", "") == app) {
      ++n;
    }
  }
  return n;
}

TEST(CtlConsent, AnInstallationBeforeTheAnswerIsHeldAndCountedOnceAfterAYes) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  const std::string config_file = h.root() + "/telemetry.json";
  {
    TestClient c = h.client();
    json reply = hello_with_installation(c, "demo-app");
    ASSERT_TRUE(reply.value("ok", false)) << reply;
    EXPECT_EQ(reply["setup"]["installation"], "pending") << reply;
  }
  EXPECT_EQ(ctl_json(h, {"telemetry", "show"}).size(), 0u);
  if (fs::exists(config_file)) {
    EXPECT_FALSE(contains(read_file(config_file), "demo-app")) << read_file(config_file);
  }

  // The daemon restarts before the answer; the app restates its installation at its next hello.
  ASSERT_EQ(h.stop(), 0);
  ASSERT_TRUE(h.start());
  {
    TestClient c = h.client();
    json reply = hello_with_installation(c, "demo-app");
    EXPECT_EQ(reply["setup"]["installation"], "pending") << reply;
  }
  EXPECT_EQ(ctl_json(h, {"telemetry", "show"}).size(), 0u);
  if (fs::exists(config_file)) {
    EXPECT_FALSE(contains(read_file(config_file), "demo-app")) << read_file(config_file);
  }

  ASSERT_EQ(h.ctl({"telemetry", "enable"}).exit_code, 0);
  json log = ctl_json(h, {"telemetry", "show"});
  EXPECT_EQ(installations_of(log, "demo-app"), 1) << log;
  EXPECT_EQ(log.size(), 1u) << log;
  json config = read_json_file(config_file);
  ASSERT_TRUE(config.is_object());
  EXPECT_EQ(config["apps"]["demo-app"]["countedSetup"], json::array({"installation"})) << config;

  TestClient c = h.client();
  json again = hello_with_installation(c, "demo-app");
  EXPECT_EQ(again["setup"]["installation"], "already_counted") << again;
  EXPECT_EQ(installations_of(ctl_json(h, {"telemetry", "show"}), "demo-app"), 1);
}

TEST(CtlConsent, AnInstallationBeforeANoIsNeverStoredEvenAfterALaterYes) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  {
    TestClient c = h.client();
    json reply = hello_with_installation(c, "demo-app");
    EXPECT_EQ(reply["setup"]["installation"], "pending") << reply;
  }
  ASSERT_EQ(h.ctl({"telemetry", "disable"}).exit_code, 0);
  EXPECT_EQ(status_json(h)["consent"]["state"], "declined");
  EXPECT_EQ(ctl_json(h, {"telemetry", "show"}).size(), 0u);
  {
    // Said no: a report made now is not collected either (and the app stops restating it).
    TestClient c = h.client();
    json reply = hello_with_installation(c, "demo-app");
    EXPECT_EQ(reply["setup"]["installation"], "not_collected") << reply;
  }

  ASSERT_EQ(h.ctl({"telemetry", "enable"}).exit_code, 0);
  json log = ctl_json(h, {"telemetry", "show"});
  EXPECT_EQ(installations_of(log, "demo-app"), 0) << log;
  EXPECT_EQ(log.size(), 0u) << log;
  json config = read_json_file(h.root() + "/telemetry.json");
  EXPECT_FALSE(config["apps"].contains("demo-app") &&
               config["apps"]["demo-app"].contains("countedSetup"))
      << config;
}

// --- a kill switch in the caller's shell -----------------------------------------------------

TEST(CtlConsent, EnableInAShellWithDoNotTrackSaysAppsStartedThereStaySilent) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  RunResult r = h.ctl({"telemetry", "enable"}, {{"DO_NOT_TRACK", "1"}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "DO_NOT_TRACK")) << r.out;
  EXPECT_TRUE(contains(r.out, "apps started from here stay silent")) << r.out;
  RunResult plain = h.ctl({"telemetry", "enable"});
  EXPECT_FALSE(contains(plain.out, "stay silent")) << plain.out;
}

// --- the daemon commands --------------------------------------------------------------------

TEST(CtlConsent, DaemonStatusNamesThePidAndSocketAndNeverStartsOne) {
  DaemonHarness h;
  RunResult absent = h.ctl({"daemon", "status"}, ctl_env(h));
  EXPECT_EQ(absent.exit_code, 3) << absent.err;
  EXPECT_TRUE(contains(absent.err, "not running")) << absent.err;
  EXPECT_FALSE(h.client().connected()) << "daemon status started a daemon";

  ASSERT_TRUE(h.start());
  RunResult r = h.ctl({"daemon", "status"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "running, pid " + std::to_string(h.process()->pid()))) << r.out;
  EXPECT_TRUE(contains(r.out, h.socket())) << r.out;
  json j = ctl_json(h, {"daemon", "status"});
  EXPECT_EQ(j["running"], true) << j;
  EXPECT_EQ(j["pid"], h.process()->pid()) << j;
  EXPECT_EQ(j["socket"], h.socket()) << j;
}

TEST(CtlConsent, DaemonStopEndsTheProcessAndQueuedEventsStayQueued) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  ASSERT_EQ(h.ctl({"telemetry", "enable"}).exit_code, 0);
  {
    TestClient c = app_client(h, "demo-app");
    track_crashes(c, 3);
  }
  const int pid = h.process()->pid();
  RunResult r = h.ctl({"daemon", "stop"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "Stopped the daemon (pid " + std::to_string(pid) + ")")) << r.out;
  EXPECT_EQ(h.process()->wait(30s), 0) << "the daemon process did not exit";
  EXPECT_FALSE(h.client().connected());

  RunResult again = h.ctl({"daemon", "stop"}, ctl_env(h));
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(contains(again.out, "not running")) << again.out;
  EXPECT_FALSE(h.client().connected()) << "daemon stop started a daemon";

  ASSERT_TRUE(h.start());
  json status = status_json(h);
  EXPECT_EQ(status["queue"]["pending"], 3) << status["queue"];
  EXPECT_EQ(app_entry(status, "demo-app")["pending"], 3);
}

TEST(CtlConsent, DaemonRestartStartsANewProcessThatAnswers) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  const int old_pid = h.process()->pid();
  RunResult r = h.ctl({"daemon", "restart"}, ctl_env(h));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "Restarted the daemon (pid ")) << r.out;
  EXPECT_TRUE(h.process()->wait(30s).has_value()) << "the old daemon still runs";

  json j = ctl_json(h, {"daemon", "status"});
  ASSERT_EQ(j["running"], true) << j;
  const int new_pid = j["pid"].get<int>();
  EXPECT_NE(new_pid, old_pid);
  EXPECT_TRUE(contains(r.out, "(pid " + std::to_string(new_pid) + ")")) << r.out;
  EXPECT_EQ(h.ctl({"telemetry", "status"}).exit_code, 0);

  // The new daemon is not the harness's child: stop it through dollhousectl.
  RunResult stop = h.ctl({"daemon", "stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_TRUE(wait_until([new_pid] { return process_gone(new_pid); })) << new_pid;
}

// --- config get|set -------------------------------------------------------------------------

TEST(CtlConsent, ConfigGetPrintsRetentionEndpointAndLevel) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  RunResult r = h.ctl({"telemetry", "config", "get"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "retention: 90 days\n")) << r.out;
  EXPECT_TRUE(contains(r.out, std::string("endpoint: ") + kRefusedEndpoint)) << r.out;
  EXPECT_TRUE(contains(r.out, "level: all\n")) << r.out;
  RunResult one = h.ctl({"telemetry", "config", "get", "level"});
  EXPECT_EQ(one.out, "all\n");
}

TEST(CtlConsent, ConfigSetRetentionIsReportedAndPersistedAndBadValuesAreRefused) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  RunResult set = h.ctl({"telemetry", "config", "set", "retention", "30"});
  EXPECT_EQ(set.exit_code, 0) << set.err;
  EXPECT_TRUE(contains(set.out, "retention is now 30 days")) << set.out;
  EXPECT_EQ(h.ctl({"telemetry", "config", "get", "retention"}).out, "30 days\n");
  EXPECT_EQ(status_json(h)["maxDataRetention"], 30);
  EXPECT_EQ(read_json_file(h.root() + "/telemetry.json")["maxDataRetention"], 30);

  RunResult zero = h.ctl({"telemetry", "config", "set", "retention", "0"});
  EXPECT_EQ(zero.exit_code, 2) << "a value out of range is a usage error";
  EXPECT_TRUE(contains(zero.err, "retention must be a number of days from 1 to 3650")) << zero.err;
  RunResult word = h.ctl({"telemetry", "config", "set", "retention", "abc"});
  EXPECT_EQ(word.exit_code, 2);
  EXPECT_TRUE(contains(word.err, "retention is a number of days, such as 30 (got \"abc\")"))
      << word.err;
  EXPECT_EQ(read_json_file(h.root() + "/telemetry.json")["maxDataRetention"], 30) << "unchanged";
}

TEST(CtlConsent, ConfigSetLevelErrorDropsQueuedInstallations) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  ASSERT_EQ(h.ctl({"telemetry", "enable"}).exit_code, 0);
  TestClient c = app_client(h, "demo-app");
  for (int i = 0; i < 2; ++i) {
    json reply = c.request({{"op", "track"}, {"event", kInstallation}});
    ASSERT_EQ(reply["accepted"], true) << reply;
  }
  track_crashes(c, 1);
  json reply = ctl_json(h, {"telemetry", "config", "set", "level", "error"});
  EXPECT_EQ(reply["droppedUnsent"], 2) << reply;
  json status = status_json(h);
  EXPECT_EQ(status["level"], "error");
  EXPECT_EQ(status["queue"]["pending"], 1);
  json log = ctl_json(h, {"telemetry", "show"});
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0]["eventType"], "crash");
  json refused = c.request({{"op", "track"}, {"event", kInstallation}});
  EXPECT_EQ(refused["accepted"], false) << refused;
}

TEST(CtlConsent, ConfigSetEndpointRefusesAnFtpUrlAndKeepsAnHttpsOne) {
  DaemonHarness h;
  // An empty variable is no override: the daemon takes the endpoint from telemetry.json.
  ASSERT_TRUE(h.start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", ""}}));
  RunResult ftp = h.ctl({"telemetry", "config", "set", "endpoint", "ftp://x"});
  EXPECT_EQ(ftp.exit_code, 2) << "a refused value is a usage error";
  EXPECT_TRUE(contains(ftp.err, "endpoint: the ingestion URL must start with https://")) << ftp.err;

  const std::string url = "https://telemetry.example.org/x";
  RunResult set = h.ctl({"telemetry", "config", "set", "endpoint", url});
  EXPECT_EQ(set.exit_code, 0) << set.err;
  EXPECT_TRUE(contains(set.out, "endpoint is now " + url)) << set.out;
  EXPECT_FALSE(contains(set.out, "still wins")) << set.out;
  EXPECT_EQ(h.ctl({"telemetry", "config", "get", "endpoint"}).out, url + "\n");
  EXPECT_EQ(status_json(h)["upload"]["endpoint"], url);
  EXPECT_EQ(read_json_file(h.root() + "/telemetry.json")["endpoint"], url);
}

TEST(CtlConsent, ConfigSetEndpointSaysTheEnvironmentStillWins) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());  // DOLLHOUSE_TELEMETRY_ENDPOINT names the refused loopback port
  const std::string url = "https://telemetry.example.org/x";
  RunResult set = h.ctl({"telemetry", "config", "set", "endpoint", url});
  EXPECT_EQ(set.exit_code, 0) << set.err;
  EXPECT_TRUE(contains(set.out, "DOLLHOUSE_TELEMETRY_ENDPOINT chose the endpoint")) << set.out;
  EXPECT_TRUE(contains(set.out, "still wins")) << set.out;
  RunResult get = h.ctl({"telemetry", "config", "get", "endpoint"});
  EXPECT_TRUE(contains(get.out, kRefusedEndpoint)) << get.out;
  EXPECT_TRUE(contains(get.out, "chosen by DOLLHOUSE_TELEMETRY_ENDPOINT")) << get.out;
  EXPECT_EQ(read_json_file(h.root() + "/telemetry.json")["endpoint"], url) << "saved for later";
}

// --- flush against a real server ------------------------------------------------------------

TEST(CtlConsent, FlushWithNothingQueuedSaysNothingToSend) {
  ScriptedServer server("202");
  ASSERT_GT(server.port(), 0);
  DaemonHarness h;
  ASSERT_TRUE(h.start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", server.url()}}));
  ASSERT_EQ(h.ctl({"telemetry", "enable"}).exit_code, 0);
  RunResult r = h.ctl({"telemetry", "flush"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "Nothing to send")) << r.out;
  EXPECT_FALSE(contains(r.out, "Sent")) << r.out;
  EXPECT_TRUE(server.requests().empty());
}

TEST(CtlConsent, FlushSaysHowManyEventsWereSentInHowManyBatches) {
  ScriptedServer server("202");
  ASSERT_GT(server.port(), 0);
  DaemonHarness h;
  ASSERT_TRUE(h.start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", server.url()}}));
  ASSERT_EQ(h.ctl({"telemetry", "enable"}).exit_code, 0);
  {
    TestClient c = app_client(h, "demo-app");
    track_crashes(c, 3);
  }
  RunResult r = h.ctl({"telemetry", "flush"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "Sent 3 events in 1 batch.")) << r.out;
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]["body"]["events"].size(), 3u);
  EXPECT_EQ(status_json(h)["queue"]["sent"], 3);
}

TEST(CtlConsent, FlushAfterARemoteDeletionSaysTheDeletionWasSent) {
  // The deletion's first attempt fails with a long Retry-After, so it is still waiting when
  // flush sends it and the server confirms.
  ScriptedServer server("500:600,204");
  ASSERT_GT(server.port(), 0);
  DaemonHarness h;
  ASSERT_TRUE(h.start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", server.url()}},
                      {"--backoff-base", "600000", "--backoff-cap", "600000"}));
  ASSERT_EQ(h.ctl({"telemetry", "enable"}).exit_code, 0);
  RunResult del = h.ctl({"telemetry", "delete", "--remote"});
  ASSERT_EQ(del.exit_code, 0) << del.err;
  ASSERT_TRUE(server.wait_requests(1));
  ASSERT_TRUE(
      wait_until([&h] { return h.status()["upload"].value("consecutiveFailures", 0) == 1; }));

  RunResult r = h.ctl({"telemetry", "flush"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "Deletion request sent")) << r.out;
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1]["method"], "DELETE");
  EXPECT_EQ(status_json(h)["remoteDeletion"]["pending"], 0);
}

TEST(CtlConsent, AFailedFlushSaysInHowManyMinutesTheDaemonTriesAgain) {
  // 500 with Retry-After 600: the next attempt is ten minutes away, whatever the jitter draws.
  ScriptedServer server("500:600");
  ASSERT_GT(server.port(), 0);
  DaemonHarness h;
  ASSERT_TRUE(
      h.start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", server.url()}}, {"--backoff-base", "240000"}));
  ASSERT_EQ(h.ctl({"telemetry", "enable"}).exit_code, 0);
  {
    TestClient c = app_client(h, "demo-app");
    track_crashes(c, 3);
  }
  RunResult r = h.ctl({"telemetry", "flush"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "upload failed")) << r.err;
  // "tries again in N minute(s)" with N a number.
  const std::size_t at = r.err.find("tries again in ");
  ASSERT_NE(at, std::string::npos) << r.err;
  std::size_t digits = at + std::string("tries again in ").size();
  std::size_t end = digits;
  while (end < r.err.size() && std::isdigit(static_cast<unsigned char>(r.err[end]))) ++end;
  EXPECT_GT(end, digits) << r.err;
  EXPECT_EQ(r.err.compare(end, 7, " minute"), 0) << r.err;
  EXPECT_FALSE(contains(r.err, "just now")) << r.err;
  EXPECT_FALSE(contains(r.out, "Sent")) << r.out;
  EXPECT_EQ(status_json(h)["queue"]["pending"], 3);
}

// --- level off, and usage totals ------------------------------------------------------------

TEST(CtlConsent, EnableWithLevelOffSaysNothingIsCollected) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  RunResult r = h.ctl({"telemetry", "enable", "--level", "off"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "nothing is collected")) << r.out;
  EXPECT_FALSE(contains(r.out, "Thank you")) << r.out;

  RunResult status = h.ctl({"telemetry", "status"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_TRUE(contains(status.out, "every category is off")) << status.out;
  const std::vector<std::string> level = lines_with(status.out, "Level:");
  ASSERT_EQ(level.size(), 1u) << status.out;
  std::istringstream words(level[0]);
  std::string label, value, rest;
  words >> label >> value >> rest;
  EXPECT_EQ(label, "Level:") << level[0];
  EXPECT_EQ(value, "off") << level[0];
  EXPECT_EQ(rest, "") << level[0];
  const std::vector<std::string> categories = lines_with(status.out, "Categories:");
  ASSERT_EQ(categories.size(), 1u) << status.out;
  EXPECT_TRUE(contains(categories[0], "none")) << categories[0];
  EXPECT_EQ(status_json(h)["level"], "off");
}

TEST(CtlConsent, ExportShowsActiveDaysAsANumberOfDays) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  ASSERT_EQ(h.ctl({"telemetry", "enable"}).exit_code, 0);
  {
    TestClient c = app_client(h, "demo-app");
    json reply = c.request({{"op", "usage"}, {"counters", {{"sessions", 1}}}});
    ASSERT_TRUE(reply.value("ok", false)) << reply;
  }
  RunResult r = h.ctl({"telemetry", "export"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json doc = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << r.out;
  ASSERT_EQ(doc["usageInProgress"].size(), 1u) << doc["usageInProgress"];
  const json& days = doc["usageInProgress"][0]["totals"]["activeDays"];
  ASSERT_TRUE(days.is_number_integer()) << days;
  EXPECT_GE(days.get<int>(), 0);
  EXPECT_LE(days.get<int>(), 7);
  EXPECT_EQ(days.get<int>(), 1) << "one usage message, one day";
}

}  // namespace
}  // namespace dollhouse::testing
