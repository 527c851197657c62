// Consent is never bypassed: a real daemon, a real app (the demo program and the C++ client
// library) and a real ingestion server on 127.0.0.1 that records every request it receives.
// Without an answer, after a decline, under every kill switch (in the daemon's environment and
// in the app's own), apps that track, report usage, sync and flush leave nothing: the server
// records no request and telemetry.db holds no event and no usage total. A withdrawal that lands
// while a batch is on the wire lets that one batch complete and nothing else: the server sees
// no request after it, and every unsent event is gone from the database.
//
// Each group starts with a control case (consent given, no switch) that must reach the server
// and the database, so a zero elsewhere means consent held, not that the set-up was broken.
// Every group prints its figures: requests recorded and events in the database, per case.
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "daemon/settings.hpp"
#include "dollhouse/telemetry.hpp"
#include "tests/fault/consent_recording_server.hpp"
#include "tests/fault/fault_run.hpp"
#include "tests/support/daemon_harness.hpp"
#include "tests/support/wait.hpp"

namespace dollhouse::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Fire-and-forget events each app run sends besides the ones it sends with an id.
constexpr int kFireAndForgetEvents = 20;
// Events queued before a withdrawal lands mid-upload: more than two batches, so that batches
// besides the one on the wire are waiting when it does.
constexpr int kEventsBeforeWithdrawal = 1200;
// Fast retries for the withdrawal cases: a retry the daemon should not make would come within
// a fraction of a second, well inside the test's wait.
const std::vector<std::string> kFastRetry = {"--backoff-base", "50", "--backoff-cap", "400"};

const json kInstallation = {
    {"eventType", "installation"}, {"installMethod", "npm"}, {"installType", "new"}};
const json kUpdate = {{"eventType", "update"},
                      {"fromVersion", "1.9.15"},
                      {"toVersion", "1.9.16"},
                      {"success", true},
                      {"durationMs", 4200}};
json crash(const std::string& message) {
  return {{"eventType", "crash"},    {"errorType", "runtime"},    {"errorCategory", "ECONNRESET"},
          {"errorMessage", message}, {"component", "GitHubAuth"}, {"recovered", true}};
}
json error_event(const std::string& message) {
  return {{"eventType", "error"},    {"errorType", "runtime"},      {"errorCategory", "ENOENT"},
          {"errorMessage", message}, {"component", "ConfigLoader"}, {"recovered", true}};
}

// What telemetry.db holds, read with SQLite itself once the daemon has exited.
struct DbCounts {
  std::vector<std::string> tables;
  std::int64_t events = -1;  // rows of the events table
  std::int64_t usage = -1;   // rows of usage_weeks: usage totals of weeks not yet rolled up
};

std::int64_t count_rows(sqlite3* db, const std::string& table) {
  sqlite3_stmt* stmt = nullptr;
  // The name comes from sqlite_master of the same file, never from input.
  std::string sql = "SELECT COUNT(*) FROM \"" + table + "\"";
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) return -1;
  std::int64_t n = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
  sqlite3_finalize(stmt);
  return n;
}

DbCounts read_db(const std::string& path) {
  DbCounts counts;
  if (!std::filesystem::exists(path)) return counts;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return counts;
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
                         -1, &stmt, nullptr) == SQLITE_OK) {
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      counts.tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    }
  }
  sqlite3_finalize(stmt);
  auto has = [&](const std::string& t) {
    return std::find(counts.tables.begin(), counts.tables.end(), t) != counts.tables.end();
  };
  if (has("events")) counts.events = count_rows(db, "events");
  if (has("usage_weeks")) counts.usage = count_rows(db, "usage_weeks");
  sqlite3_close(db);
  return counts;
}

// What one app run got back from the daemon.
struct AppRun {
  int tracked = 0;   // tracks sent with an id
  int accepted = 0;  // of those, the ones the daemon stored
  json sync;
  json flush;
};

// An app as the protocol allows it: hello, each event kind tracked with an id, more without,
// usage counters and timings, sync, then the flush op.
AppRun drive_protocol_app(const DaemonHarness& h) {
  AppRun run;
  TestClient c = h.client();
  EXPECT_TRUE(c.hello("consent-probe").value("ok", false));
  for (const json& event : {kInstallation, kUpdate, crash("socket hang up"),
                            error_event("could not read the config")}) {
    json reply = c.request({{"op", "track"}, {"event", event}});
    EXPECT_TRUE(reply.value("ok", false)) << reply.dump();
    ++run.tracked;
    run.accepted += reply.value("accepted", false) ? 1 : 0;
  }
  for (int i = 0; i < kFireAndForgetEvents; ++i) {
    EXPECT_TRUE(c.send({{"op", "track"}, {"event", crash("socket hang up " + std::to_string(i))}}));
  }
  json usage = c.request({{"op", "usage"},
                          {"counters", {{"sessions", 1}, {"personasUsed", 3}}},
                          {"timings", {{"startup", 812.0}}}});
  EXPECT_TRUE(usage.value("ok", false)) << usage.dump();
  run.sync = c.request({{"op", "sync"}});
  EXPECT_TRUE(run.sync.value("ok", false)) << run.sync.dump();
  run.flush = c.request({{"op", "flush"}}, seconds(60));
  EXPECT_TRUE(run.flush.value("ok", false)) << run.flush.dump();
  return run;
}

// The demo program: a real app linking the client library, started with `app_env` added to its
// environment.
RunResult run_demo(const DaemonHarness& h, const Env& app_env = {}) {
  return run_process(
      {build_bin("dollhouse-telemetry-demo"), "--home", h.root(), "--socket", h.socket()},
      h.env(app_env));
}

// The C++ client library in this process, its kill switches read from `environment` only.
void drive_library_app(const DaemonHarness& h, const Env& environment) {
  telemetry::ClientOptions options;
  options.app = "consent-library-probe";
  options.app_version = "2.0.0";
  options.socket_path = h.socket();
  options.environment = environment;
  telemetry::Client client(options);
  client.track(telemetry::InstallationEvent{"npm", "new", ""});
  telemetry::FailureEvent failure;
  failure.error_type = "runtime";
  failure.error_category = "EPIPE";
  failure.error_message = "write after end";
  failure.component = "Transport";
  failure.recovered = true;
  client.track_crash(failure);
  client.track_error(failure);
  telemetry::Usage usage;
  usage.counters = {{"sessions", 1}};
  client.usage(usage);
  client.flush(seconds(5));
}

struct CaseResult {
  std::string name;
  std::size_t requests = 0;
  DbCounts db;
};

std::string describe(const std::vector<CaseResult>& results) {
  std::ostringstream out;
  out << "cases " << results.size();
  for (const auto& r : results) {
    out << "; " << r.name << ": requests " << r.requests << ", events " << r.db.events
        << ", usage rows " << r.db.usage;
  }
  return out.str();
}

// Stops the daemon (SIGTERM: its shutdown flush runs too), then reads what reached the server
// and what is left on disk.
CaseResult finish_case(const std::string& name, DaemonHarness& h, const RecordingServer& server) {
  EXPECT_EQ(h.stop(), 0) << name;
  CaseResult r{name, server.requests().size(), read_db(h.root() + "/telemetry.db")};
  EXPECT_GE(r.db.events, 0) << name << ": telemetry.db has an events table";
  EXPECT_GE(r.db.usage, 0) << name << ": telemetry.db has a usage_weeks table";
  return r;
}

Env with_endpoint(const RecordingServer& server, Env env = {}) {
  env["DOLLHOUSE_TELEMETRY_ENDPOINT"] = server.url();
  return env;
}

void expect_control_delivered(const CaseResult& r, const AppRun& run) {
  EXPECT_EQ(run.accepted, run.tracked) << r.name;
  EXPECT_GE(r.requests, 1u) << r.name << ": the control case reaches the server";
  EXPECT_GT(r.db.events, 0) << r.name << ": the control case stores events";
}

void expect_nothing_left(const CaseResult& r, const AppRun& run) {
  EXPECT_EQ(run.accepted, 0) << r.name;
  EXPECT_EQ(run.sync.value("accepted", -1), 0) << r.name << ": " << run.sync.dump();
  EXPECT_EQ(run.flush["flush"].value("sentEvents", -1), 0) << r.name << ": " << run.flush.dump();
  EXPECT_EQ(r.requests, 0u) << r.name;
  EXPECT_EQ(r.db.events, 0) << r.name;
  EXPECT_EQ(r.db.usage, 0) << r.name;
}

TEST(ConsentBypass, WithoutAnAnswerOrAfterADeclineNothingIsStoredOrSent) {
  std::vector<CaseResult> results;
  for (const std::string answer : {"given (control)", "absent", "declined"}) {
    RecordingServer server;
    DaemonHarness h;
    ASSERT_FALSE(std::filesystem::exists(h.root() + "/telemetry.json")) << "a fresh data root";
    ASSERT_TRUE(h.start(with_endpoint(server)));
    if (answer == "given (control)") {
      ASSERT_TRUE(h.enable().value("ok", false));
    } else if (answer == "declined") {
      RunResult r = h.ctl({"telemetry", "disable"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    const std::string state = h.status()["consent"].value("state", "");
    EXPECT_EQ(state, answer == "absent"     ? "not_answered"
                     : answer == "declined" ? "declined"
                                            : "given");
    AppRun run = drive_protocol_app(h);
    RunResult demo = run_demo(h);
    EXPECT_EQ(demo.exit_code, 0) << demo.err;
    json flush = h.client().request({{"op", "flush"}}, seconds(60));  // after the demo's events
    EXPECT_TRUE(flush.value("ok", false)) << flush.dump();
    CaseResult r = finish_case(answer, h, server);
    if (answer == "given (control)") {
      expect_control_delivered(r, run);
    } else {
      EXPECT_EQ(flush["flush"].value("sentEvents", -1), 0) << flush.dump();
      expect_nothing_left(r, run);
    }
    results.push_back(std::move(r));
  }
  print_figures("ConsentBypass.NoAnswerOrDecline", describe(results));
}

struct KillSwitch {
  const char* name;
  Env env;
};

const std::vector<KillSwitch> kKillSwitches = {
    {"DO_NOT_TRACK=1", {{"DO_NOT_TRACK", "1"}}},
    {"DOLLHOUSE_TELEMETRY=0", {{"DOLLHOUSE_TELEMETRY", "0"}}},
    {"DOLLHOUSE_TELEMETRY=false", {{"DOLLHOUSE_TELEMETRY", "false"}}},
    {"DOLLHOUSE_TELEMETRY=off", {{"DOLLHOUSE_TELEMETRY", "off"}}},
    {"DOLLHOUSE_TELEMETRY=no", {{"DOLLHOUSE_TELEMETRY", "no"}}},
    {"CI=true", {{"CI", "true"}}},
    {"GITHUB_ACTIONS=true", {{"GITHUB_ACTIONS", "true"}}},
    {"JENKINS_URL=...", {{"JENKINS_URL", "https://ci.example.invalid/"}}},
};

TEST(ConsentBypass, AKillSwitchInTheDaemonsEnvironmentWinsOverConsent) {
  std::vector<CaseResult> results;
  std::vector<KillSwitch> cases = {{"control (no switch)", {}}};
  cases.insert(cases.end(), kKillSwitches.begin(), kKillSwitches.end());
  for (const auto& ks : cases) {
    SCOPED_TRACE(ks.name);
    RecordingServer server;
    DaemonHarness h;
    ASSERT_TRUE(h.start(with_endpoint(server, ks.env)));
    json consent = h.enable();
    ASSERT_TRUE(consent.value("ok", false)) << consent.dump();
    json status = h.status();
    EXPECT_EQ(status["consent"].value("state", ""), "given");
    const bool control = ks.env.empty();
    EXPECT_EQ(status["overriddenBy"].is_null(), control) << status["overriddenBy"].dump();
    AppRun run = drive_protocol_app(h);
    RunResult demo = run_demo(h);  // the app's own environment has no switch
    EXPECT_EQ(demo.exit_code, 0) << demo.err;
    EXPECT_NE(demo.out.find("daemon confirmed"), std::string::npos) << demo.out;
    json flush = h.client().request({{"op", "flush"}}, seconds(60));
    EXPECT_TRUE(flush.value("ok", false)) << flush.dump();
    CaseResult r = finish_case(ks.name, h, server);
    if (control) {
      expect_control_delivered(r, run);
    } else {
      EXPECT_EQ(flush["flush"].value("sentEvents", -1), 0) << flush.dump();
      expect_nothing_left(r, run);
    }
    results.push_back(std::move(r));
  }
  print_figures("ConsentBypass.DaemonKillSwitch", describe(results));
}

TEST(ConsentBypass, AKillSwitchInTheAppsEnvironmentSilencesThatApp) {
  std::vector<CaseResult> results;
  std::vector<KillSwitch> cases = {{"control (no switch)", {}}};
  cases.insert(cases.end(), kKillSwitches.begin(), kKillSwitches.end());
  for (const auto& ks : cases) {
    SCOPED_TRACE(ks.name);
    RecordingServer server;
    DaemonHarness h;
    ASSERT_TRUE(h.start(with_endpoint(server)));  // the daemon itself collects
    ASSERT_TRUE(h.enable().value("ok", false));
    const auto connections_before = h.status()["daemon"]["connectionsTotal"].get<std::int64_t>();
    RunResult demo = run_demo(h, ks.env);
    EXPECT_EQ(demo.exit_code, 0) << demo.err;
    drive_library_app(h, ks.env);
    const auto connections_after = h.status()["daemon"]["connectionsTotal"].get<std::int64_t>();
    json flush = h.client().request({{"op", "flush"}}, seconds(60));
    EXPECT_TRUE(flush.value("ok", false)) << flush.dump();
    CaseResult r = finish_case(ks.name, h, server);
    if (ks.env.empty()) {
      EXPECT_GT(connections_after - connections_before, 1) << "the apps connected";
      EXPECT_GE(r.requests, 1u);
      EXPECT_GT(r.db.events, 0);
    } else {
      EXPECT_NE(demo.out.find("Telemetry is off here"), std::string::npos) << demo.out;
      // Only the status request that counted connects: neither app opened the socket.
      EXPECT_EQ(connections_after - connections_before, 1);
      EXPECT_EQ(flush["flush"].value("sentEvents", -1), 0) << flush.dump();
      EXPECT_EQ(r.requests, 0u);
      EXPECT_EQ(r.db.events, 0);
      EXPECT_EQ(r.db.usage, 0);
    }
    results.push_back(std::move(r));
  }
  print_figures("ConsentBypass.AppKillSwitch", describe(results));
}

// What the privacy policy and docs/upload.md promise when consent is withdrawn while a batch is
// on the wire: that batch may complete (it left before the withdrawal), nothing is sent after
// the withdrawal (no other batch, no retry of that one), and every event not yet sent, the
// batch on the wire included (the server had not acknowledged it), is deleted at once.
class WithdrawalMidUpload : public ::testing::TestWithParam<int> {};

TEST_P(WithdrawalMidUpload, TheBatchOnTheWireMayCompleteAndNothingElseIsSent) {
  const int answer = GetParam();  // what the server finally answers the held batch
  RecordingServer server;
  server.hold();
  DaemonHarness h;
  ASSERT_TRUE(h.start(with_endpoint(server), kFastRetry));
  ASSERT_TRUE(h.enable().value("ok", false));

  TestClient app = h.client();
  ASSERT_TRUE(app.hello("consent-probe").value("ok", false));
  for (int i = 0; i < kEventsBeforeWithdrawal; ++i) {
    ASSERT_TRUE(
        app.send({{"op", "track"}, {"event", crash("socket hang up " + std::to_string(i))}}));
  }
  ASSERT_TRUE(app.request({{"op", "usage"}, {"counters", {{"sessions", 1}}}}).value("ok", false));
  json sync = app.request({{"op", "sync"}});
  ASSERT_EQ(sync.value("accepted", -1), kEventsBeforeWithdrawal + 1) << sync.dump();

  // A full batch starts an upload by itself; the server holds its answer.
  ASSERT_TRUE(server.wait_requests(1, seconds(60)));
  TestClient flusher = h.client();
  ASSERT_TRUE(flusher.send({{"op", "flush"}, {"id", 77}}));
  ASSERT_TRUE(wait_until([&] { return h.status()["upload"].value("inProgress", false); }));

  const auto withdrawn_at = std::chrono::steady_clock::now();
  RunResult disable = h.ctl({"telemetry", "disable", "--json"});
  ASSERT_EQ(disable.exit_code, 0) << disable.err;
  json reply = json::parse(disable.out, nullptr, false);
  ASSERT_TRUE(reply.is_object()) << disable.out;
  EXPECT_EQ(reply.value("droppedUnsent", -1), kEventsBeforeWithdrawal)
      << "every unsent event, the batch on the wire included";
  EXPECT_EQ(reply["consent"].value("state", ""), "withdrawn");

  server.release(answer);
  json flushed = flusher.read(seconds(60));
  ASSERT_TRUE(flushed.is_object());
  EXPECT_EQ(flushed.value("id", 0), 77);
  // The cycle is over and no retry or interval flush is planned: nothing more would be sent.
  ASSERT_TRUE(wait_until(
      [&] {
        json upload = h.status()["upload"];
        return !upload.value("inProgress", true) && upload["nextAttempt"].is_null();
      },
      seconds(60)))
      << h.status()["upload"].dump();
  json again = h.client().request({{"op", "flush"}}, seconds(60));
  EXPECT_EQ(again["flush"].value("sentEvents", -1), 0) << again.dump();
  json status = h.status();
  EXPECT_EQ(status["queue"].value("pending", -1), 0);

  CaseResult r = finish_case("answer " + std::to_string(answer), h, server);
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u) << "only the batch already on the wire";
  EXPECT_LT(requests[0].at, withdrawn_at) << "it left before the withdrawal";
  const std::size_t on_the_wire = requests[0].body["events"].size();
  EXPECT_GT(on_the_wire, 0u);
  EXPECT_LE(on_the_wire, static_cast<std::size_t>(daemon::kBatchMaxEvents));
  EXPECT_EQ(flushed["flush"].value("sentEvents", -1),
            answer == 202 ? static_cast<int>(on_the_wire) : 0)
      << flushed.dump();
  EXPECT_EQ(r.db.events, 0) << "no unsent event outlives the withdrawal";
  EXPECT_EQ(r.db.usage, 0) << "nor a usage total";
  print_figures("ConsentBypass.WithdrawalMidUpload/" + std::to_string(answer),
                "queued " + std::to_string(kEventsBeforeWithdrawal) + ", on the wire " +
                    std::to_string(on_the_wire) + ", dropped by the withdrawal " +
                    std::to_string(reply.value("droppedUnsent", -1)) + ", requests " +
                    std::to_string(requests.size()) + ", events in db " +
                    std::to_string(r.db.events) + ", usage rows " + std::to_string(r.db.usage));
}

INSTANTIATE_TEST_SUITE_P(ConsentBypass, WithdrawalMidUpload, ::testing::Values(202, 503),
                         [](const ::testing::TestParamInfo<int>& p) {
                           return p.param == 202 ? std::string("Accepted")
                                                 : std::string("Unavailable");
                         });

}  // namespace
}  // namespace dollhouse::testing
