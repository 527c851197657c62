// Crash capture end to end: a real app process (crash_child, linked to the client library)
// dies of each fatal signal against the real daemon, ends with the same status as without the
// handler, and leaves exactly one crash event after the daemon's next scan. Also the C ABI from a
// C program, installation facts counted once after consent, the developer echo, and the
// examples of docs/clients.md.
//
// The crash child is compiled without sanitizer instrumentation (it is linked to the
// instrumented client library all the same) and run with ASan's own signal handlers off
// (handle_segv=0 and the like), so its faults are real faults seen by the handler under test.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dollhouse/telemetry.hpp"
#include "tests/support/daemon_harness.hpp"
#include "tests/support/wait.hpp"

namespace dollhouse::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

// The child's environment: the test's own, with ASan's signal handlers off.
Env crash_env(const DaemonHarness& h, const Env& extra = {}) {
  Env env = h.env(extra);
  std::string asan = env.count("ASAN_OPTIONS") ? env["ASAN_OPTIONS"] + ":" : "";
  env["ASAN_OPTIONS"] = asan +
                        "handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:"
                        "handle_abort=0:allow_user_segv_handler=1";
  return env;
}

RunResult run_child(const DaemonHarness& h, const std::string& mode, bool handler = true,
                    const Env& extra = {}) {
  std::vector<std::string> argv = {
      build_bin("crash_child"), "--home", h.root(), "--socket", h.socket(), "--mode", mode};
  if (!handler) argv.push_back("--no-handler");
  return run_process(argv, crash_env(h, extra));
}

std::vector<fs::path> records(const DaemonHarness& h) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(h.root() + "/crashes", ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().extension() == ".json") out.push_back(it->path());
  }
  return out;
}

json events_of(const DaemonHarness& h, const std::string& type, const std::string& app) {
  json out = json::array();
  for (const auto& e : h.entries()) {
    if (e["eventType"] == type && e["data"].value("app", "") == app) out.push_back(e);
  }
  return out;
}

struct CrashCase {
  std::string mode;
  int signal;
  std::string category;
};

class CrashCapture : public ::testing::TestWithParam<CrashCase> {};

TEST_P(CrashCapture, EndsWithTheSameStatusAndLeavesExactlyOneCrashEvent) {
  const CrashCase& c = GetParam();
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.enable()["ok"].get<bool>());

  RunResult without = run_child(h, c.mode, false);
  EXPECT_EQ(without.exit_code, 128 + c.signal) << without.err;
  EXPECT_TRUE(records(h).empty()) << "no record without the handler";
  RunResult with = run_child(h, c.mode);
  EXPECT_EQ(with.exit_code, without.exit_code) << with.out << with.err;
  EXPECT_NE(with.out.find("crash reports: on"), std::string::npos) << with.out;
  // The record is there now, unless the scan of the child's own last hello, which may run
  // after the child received its reply and died, took it already.

  // The daemon's next scan: a hello of that app.
  ASSERT_TRUE(h.client().hello("crash-child")["ok"].get<bool>());
  json crashes;
  ASSERT_TRUE(wait_until([&] {
    crashes = events_of(h, "crash", "crash-child");
    return !crashes.empty() && records(h).empty();
  })) << crashes.dump();
  ASSERT_EQ(crashes.size(), 1u) << crashes.dump();
  const json& data = crashes[0]["data"];
  EXPECT_EQ(data["errorCategory"], c.category);
  EXPECT_EQ(data["component"], "crash-child-main");
  EXPECT_EQ(data["version"], "3.1.4");
  EXPECT_EQ(data["recovered"], false);
  EXPECT_TRUE(data["errorType"] == "startup" || data["errorType"] == "runtime") << data.dump();
  EXPECT_NE(data["errorMessage"].get<std::string>().find(c.mode == "terminate" ? "terminate"
                                                                               : c.category),
            std::string::npos);

  ASSERT_TRUE(h.client().hello("crash-child")["ok"].get<bool>());
  EXPECT_EQ(events_of(h, "crash", "crash-child").size(), 1u) << "not counted twice";
}

INSTANTIATE_TEST_SUITE_P(
    Signals, CrashCapture,
    ::testing::Values(CrashCase{"segv", SIGSEGV, "SIGSEGV"}, CrashCase{"bus", SIGBUS, "SIGBUS"},
                      CrashCase{"fpe", SIGFPE, "SIGFPE"}, CrashCase{"ill", SIGILL, "SIGILL"},
                      CrashCase{"abort", SIGABRT, "SIGABRT"},
                      CrashCase{"terminate", SIGABRT, "std::terminate"},
                      CrashCase{"null", SIGSEGV, "SIGSEGV"},
                      CrashCase{"overflow", SIGSEGV, "SIGSEGV"}),
    [](const ::testing::TestParamInfo<CrashCase>& param_info) { return param_info.param.mode; });

TEST(CrashCaptureConsent, WithoutConsentNoRecordIsWrittenAndTheStatusIsTheSame) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  RunResult with = run_child(h, "segv");
  EXPECT_EQ(with.exit_code, 128 + SIGSEGV) << with.err;
  EXPECT_NE(with.out.find("crash reports: off"), std::string::npos) << with.out;
  EXPECT_TRUE(records(h).empty());
  ASSERT_TRUE(h.client().hello("crash-child")["ok"].get<bool>());
  EXPECT_TRUE(events_of(h, "crash", "crash-child").empty());
}

TEST(CrashCaptureConsent, AKillSwitchInTheAppsEnvironmentWritesNoRecord) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.enable()["ok"].get<bool>());
  RunResult with = run_child(h, "abort", true, {{"DO_NOT_TRACK", "1"}});
  EXPECT_EQ(with.exit_code, 128 + SIGABRT);
  EXPECT_NE(with.out.find("handler: " + std::to_string(static_cast<int>(
                                            telemetry::CrashHandlerResult::kDisabled))),
            std::string::npos)
      << with.out;
  EXPECT_TRUE(records(h).empty());
}

TEST(CrashCaptureRestart, ARecordLeftWhileTheDaemonWasDownIsTakenAtItsStart) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.enable()["ok"].get<bool>());
  ASSERT_EQ(h.stop(), 0);
  // What an app's handler leaves while no daemon runs (the Node client writes the same).
  const std::int64_t crashed_ms = 1'764'633'600'000;
  json record = {{"v", 1},
                 {"app", "crash-child"},
                 {"appVersion", "3.1.4"},
                 {"time", crashed_ms},
                 {"event",
                  {{"eventType", "crash"},
                   {"errorType", "startup"},
                   {"errorCategory", "SIGABRT"},
                   {"errorMessage", "fatal signal SIGABRT"},
                   {"component", "native"},
                   {"recovered", false}}}};
  std::ofstream(h.root() + "/crashes/crash-child-4242-" + std::to_string(crashed_ms) + ".json")
      << record.dump();
  ASSERT_EQ(records(h).size(), 1u);
  ASSERT_TRUE(h.start());
  json crashes;
  ASSERT_TRUE(wait_until([&] {
    crashes = events_of(h, "crash", "crash-child");
    return !crashes.empty() && records(h).empty();
  })) << "taken by the start scan, no hello needed";
  EXPECT_EQ(crashes.size(), 1u);
  EXPECT_EQ(crashes[0]["data"]["errorCategory"], "SIGABRT");
  EXPECT_EQ(crashes[0]["data"]["timestamp"], "2025-12-02T00:00:00.000Z");
}

RunResult run_c_client(const DaemonHarness& h, const std::string& mode) {
  return run_process({build_bin("c_client_test"), h.root(), h.socket(), mode}, crash_env(h));
}

TEST(CClient, TheCAbiTracksCountsFlushesAndKnowsTheConsentState) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  RunResult before = run_c_client(h, "use");
  ASSERT_EQ(before.exit_code, 0) << before.out << before.err;
  EXPECT_NE(before.out.find("consent: 1"), std::string::npos) << "not answered: " << before.out;
  EXPECT_NE(before.out.find("collecting: 0"), std::string::npos);
  EXPECT_TRUE(events_of(h, "error", "c-client").empty());

  ASSERT_TRUE(h.enable()["ok"].get<bool>());
  EXPECT_EQ(events_of(h, "installation", "c-client").size(), 1u)
      << "the installation held since the first run is counted by the yes";
  RunResult after = run_c_client(h, "use");
  ASSERT_EQ(after.exit_code, 0) << after.out << after.err;
  EXPECT_NE(after.out.find("consent: 3"), std::string::npos) << after.out;
  EXPECT_NE(after.out.find("collecting: 1"), std::string::npos);
  json errors = events_of(h, "error", "c-client");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]["data"]["errorCategory"], "C_ERROR");
  EXPECT_EQ(events_of(h, "installation", "c-client").size(), 1u) << "not counted again";
  json exported = h.client().request({{"op", "export"}});
  bool usage_seen = false;
  for (const auto& u : exported["export"]["usageInProgress"]) {
    if (u.dump().find("c-client") != std::string::npos) usage_seen = true;
  }
  EXPECT_TRUE(usage_seen) << exported["export"]["usageInProgress"].dump();

  RunResult crash = run_c_client(h, "crash");
  EXPECT_EQ(crash.exit_code, 128 + SIGSEGV) << crash.out << crash.err;
  ASSERT_TRUE(h.client().hello("c-client")["ok"].get<bool>());
  json crashes;
  ASSERT_TRUE(wait_until([&] {
    crashes = events_of(h, "crash", "c-client");
    return !crashes.empty();
  }));
  EXPECT_EQ(crashes.size(), 1u);
  EXPECT_EQ(crashes[0]["data"]["component"], "c-main");
}

telemetry::ClientOptions app_options(const DaemonHarness& h) {
  telemetry::ClientOptions options;
  options.app = "native-app";
  options.app_version = "1.9.16";
  options.socket_path = h.socket();
  options.data_root = h.root();
  options.environment = std::map<std::string, std::string>{};
  options.installation = telemetry::InstallationEvent{"npm", "new", ""};
  return options;
}

TEST(InstallFacts, HeldBeforeConsentCountedOnceByTheYesNeverAgainAfterARestart) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  {
    telemetry::Client client(app_options(h));
    EXPECT_EQ(client.refresh_consent(10s).answer, telemetry::ConsentAnswer::kNotAnswered);
    EXPECT_TRUE(events_of(h, "installation", "native-app").empty()) << "held, not stored";

    ASSERT_TRUE(h.enable()["ok"].get<bool>());
    EXPECT_EQ(events_of(h, "installation", "native-app").size(), 1u);
    EXPECT_EQ(client.refresh_consent(10s).answer, telemetry::ConsentAnswer::kGiven);
  }
  ASSERT_EQ(h.stop(), 0);
  ASSERT_TRUE(h.start());
  telemetry::Client restarted(app_options(h));
  EXPECT_TRUE(restarted.refresh_consent(10s).collecting);
  ASSERT_TRUE(restarted.flush(10s));
  EXPECT_EQ(events_of(h, "installation", "native-app").size(), 1u) << "already counted";
}

TEST(InstallFacts, AnUpdateAfterConsentIsCountedAtOnce) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.enable()["ok"].get<bool>());
  auto options = app_options(h);
  options.installation.reset();
  options.update = telemetry::UpdateEvent{"1.9.15", "1.9.16", true, "", 4200};
  telemetry::Client client(options);
  ASSERT_TRUE(client.flush(10s));
  json updates;
  ASSERT_TRUE(wait_until([&] {
    updates = events_of(h, "update", "native-app");
    return !updates.empty();
  }));
  EXPECT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0]["data"]["toVersion"], "1.9.16");
}

TEST(DeveloperEcho, EachEventAndTheDaemonsVerdictArePrintedToStderr) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  auto options = app_options(h);
  options.installation.reset();
  options.environment = std::map<std::string, std::string>{{"DOLLHOUSE_TELEMETRY_DEBUG", "1"}};
  telemetry::FailureEvent good{"runtime", "CONFIG_ERROR", "could not read", "loader", true};
  telemetry::FailureEvent bad = good;
  bad.error_type = "sometimes";

  ::testing::internal::CaptureStderr();
  {
    telemetry::Client client(options);
    client.track_error(good);
    ASSERT_TRUE(client.flush(10s));
    ASSERT_TRUE(h.enable()["ok"].get<bool>());
    client.track_error(good);
    client.track_error(bad);
    ASSERT_TRUE(client.flush(10s));
  }
  std::string echoed = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(echoed.find("[dollhouse-telemetry] track {"), std::string::npos) << echoed;
  EXPECT_NE(echoed.find("\"errorCategory\":\"CONFIG_ERROR\""), std::string::npos) << echoed;
  EXPECT_NE(echoed.find(": dropped: no_consent"), std::string::npos) << echoed;
  EXPECT_NE(echoed.find(": stored"), std::string::npos) << echoed;
  EXPECT_NE(echoed.find(": invalid_event: "), std::string::npos) << echoed;
  EXPECT_NE(echoed.find("(at /errorType"), std::string::npos) << echoed;
  EXPECT_EQ(events_of(h, "error", "native-app").size(), 1u);

  ASSERT_EQ(h.stop(), 0);
  ::testing::internal::CaptureStderr();
  {
    telemetry::Client client(options);
    client.track_error(good);
    client.flush(2s);
  }
  echoed = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(echoed.find(": dropped: daemon not running"), std::string::npos) << echoed;
}

TEST(DeveloperEcho, AKillSwitchIsNamedInTheVerdict) {
  DaemonHarness h;
  auto options = app_options(h);
  options.environment =
      std::map<std::string, std::string>{{"DOLLHOUSE_TELEMETRY_DEBUG", "1"}, {"DO_NOT_TRACK", "1"}};
  ::testing::internal::CaptureStderr();
  {
    telemetry::Client client(options);
    EXPECT_FALSE(client.track_error({"runtime", "X", "y", "z", true}));
  }
  std::string echoed = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(echoed.find("dropped: a kill switch is in force (DO_NOT_TRACK)"), std::string::npos)
      << echoed;
}

// The examples of docs/clients.md, as built from tests/integration/client_examples.
TEST(NativeClientExamples, TheCppAndCExamplesRunAndTheirEventsArrive) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.enable()["ok"].get<bool>());
  for (const std::string program : {"native_app_example", "native_app_c_example"}) {
    RunResult run = run_process(
        {build_bin(program)},
        h.env({{"DOLLHOUSE_HOME", h.root()}, {"DOLLHOUSE_TELEMETRY_SOCKET", h.socket()}}));
    EXPECT_EQ(run.exit_code, 0) << program << ": " << run.out << run.err;
  }
  EXPECT_EQ(events_of(h, "installation", "example-native").size(), 1u);
  EXPECT_EQ(events_of(h, "update", "example-native-c").size(), 1u);
  EXPECT_EQ(events_of(h, "error", "example-native").size(), 1u);
  EXPECT_EQ(events_of(h, "error", "example-native-c").size(), 1u);
}

}  // namespace
}  // namespace dollhouse::testing
