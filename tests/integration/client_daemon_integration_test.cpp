// The client library against the real daemon, through the demo app (a separate process with a
// controlled environment): events arrive only after consent, personal data from the machine
// is gone, and an absent daemon costs the app nothing.
#include <unistd.h>

#include <set>

#include <gtest/gtest.h>

#include "tests/support/daemon_harness.hpp"

namespace dollhouse::testing {
namespace {

using nlohmann::json;

RunResult run_demo(const DaemonHarness& h, const Env& extra = {}, int count = 1) {
  return run_process({build_bin("dollhouse-telemetry-demo"), "--home", h.root(), "--socket",
                      h.socket(), "--count", std::to_string(count)},
                     h.env(extra));
}

TEST(ClientDaemon, DemoEventsAreKeptOnlyAfterConsent) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  RunResult before = run_demo(h);
  ASSERT_EQ(before.exit_code, 0) << before.err;
  EXPECT_NE(before.out.find("daemon confirmed"), std::string::npos) << before.out;
  EXPECT_EQ(h.entries().size(), 0u);
  json status = h.status();
  EXPECT_GE(status["queue"]["dropped"]["no_consent"].get<int>(), 5);

  ASSERT_TRUE(h.enable()["ok"].get<bool>());
  RunResult after = run_demo(h);
  ASSERT_EQ(after.exit_code, 0) << after.err;
  json entries = h.entries();
  std::multiset<std::string> types;
  for (const auto& e : entries) types.insert(e["eventType"].get<std::string>());
  EXPECT_EQ(types.count("installation"), 1u);
  EXPECT_EQ(types.count("update"), 1u);
  EXPECT_EQ(types.count("crash"), 1u);
  EXPECT_EQ(types.count("error"), 2u) << "one from the C++ API, one from the C ABI";
  json exported = h.client().request({{"op", "export"}});
  EXPECT_EQ(exported["export"]["usageInProgress"].size(), 2u) << "demo and its C client";
}

TEST(ClientDaemon, NothingFromTheMachineIdentityIsStored) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.enable()["ok"].get<bool>());
  ASSERT_EQ(run_demo(h).exit_code, 0);
  std::string text = h.ctl({"telemetry", "show", "--json"}).out;
  ASSERT_NE(text.find("PortfolioManager"), std::string::npos) << "the error event is there";
  const std::string home = h.env().at("HOME");
  EXPECT_EQ(text.find(home), std::string::npos) << "the home path was scrubbed";
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  if (std::string(host).size() > 3) {
    EXPECT_EQ(text.find(std::string("\"") + host), std::string::npos);
  }
}

TEST(ClientDaemon, KillSwitchMakesTheAppANoOp) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.enable()["ok"].get<bool>());
  int connections_before = h.status()["daemon"]["connectionsTotal"];
  RunResult r = run_demo(h, {{"DO_NOT_TRACK", "1"}});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Telemetry is off here"), std::string::npos) << r.out;
  json status = h.status();
  EXPECT_EQ(status["daemon"]["connectionsTotal"], connections_before + 1)
      << "only this status request connected; the demo never did";
  EXPECT_EQ(h.entries().size(), 0u);
}

TEST(ClientDaemon, AbsentDaemonCostsTheAppNothing) {
  DaemonHarness h;  // never started
  auto begin = std::chrono::steady_clock::now();
  RunResult r = run_demo(h);
  auto took = std::chrono::steady_clock::now() - begin;
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("No daemon confirmed"), std::string::npos) << r.out;
  // Bounded by the demo's flush timeout (5 s) twice, not by anything the daemon does.
  EXPECT_LT(took, std::chrono::seconds(30));
}

}  // namespace
}  // namespace dollhouse::testing
