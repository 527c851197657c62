// The C ABI end to end against the fake daemon. The C ABI reads the process environment, so
// this test sets the kill-switch variables itself and restores them afterwards.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>

#include <nlohmann/json.hpp>

#include "dollhouse/telemetry.h"
#include "tests/support/fake_daemon.hpp"
#include "tests/support/temp_dir.hpp"

namespace dollhouse::testing {
namespace {

using namespace std::chrono_literals;

void set_variable(const char* name, const char* value) {
#ifdef _WIN32
  ::_putenv_s(name, value != nullptr ? value : "");  // "" removes it
#else
  if (value != nullptr) {
    ::setenv(name, value, 1);
  } else {
    ::unsetenv(name);
  }
#endif
}

// Sets or unsets one variable for the lifetime of the guard.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    set_variable(name, value);
  }
  ~ScopedEnv() { set_variable(name_, old_ ? old_->c_str() : nullptr); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(CApi, RoundTripThroughTheDaemon) {
  ScopedEnv collect("DOLLHOUSE_TELEMETRY", "true");
  ScopedEnv no_dnt("DO_NOT_TRACK", nullptr);
  TempDir dir;
  FakeDaemon daemon(dir.endpoint("t.sock"));

  dh_telemetry_client* client = dh_telemetry_open("capp", "2.0.0", dir.endpoint("t.sock").c_str());
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(dh_telemetry_enabled(client), 1);
  EXPECT_EQ(dh_telemetry_track_json(client, R"({"eventType":"error","errorType":"runtime"})"), 0);
  EXPECT_EQ(dh_telemetry_track_json(client, "[1]"), -1);
  EXPECT_EQ(dh_telemetry_track_json(client, nullptr), -1);
  EXPECT_EQ(dh_telemetry_usage_counter(client, "skillsUsed", 2), 0);
  EXPECT_EQ(dh_telemetry_usage_timing(client, "response", 12.5), 0);
  EXPECT_EQ(dh_telemetry_flush(client, 5000), 0);
  dh_telemetry_close(client);

  auto hello = nlohmann::json::parse(daemon.lines_with_op("hello").at(0));
  EXPECT_EQ(hello["app"], "capp");
  EXPECT_EQ(hello["appVersion"], "2.0.0");
  auto track = nlohmann::json::parse(daemon.lines_with_op("track").at(0));
  EXPECT_EQ(track["event"]["errorType"], "runtime");
  auto usage = daemon.lines_with_op("usage");
  ASSERT_EQ(usage.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(usage[0])["counters"]["skillsUsed"], 2);
  EXPECT_EQ(nlohmann::json::parse(usage[1])["timings"]["response"], 12.5);
}

TEST(CApi, KillSwitchInTheProcessEnvironmentDisablesTheClient) {
  ScopedEnv dnt("DO_NOT_TRACK", "1");
  dh_telemetry_client* client = dh_telemetry_open("capp", "2.0.0", "/nonexistent/t.sock");
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(dh_telemetry_enabled(client), 0);
  EXPECT_EQ(dh_telemetry_track_json(client, R"({"eventType":"error"})"), -1);
  EXPECT_EQ(dh_telemetry_flush(client, 100), -1);
  dh_telemetry_close(client);
}

TEST(CApi, NullArgumentsAreHarmless) {
  EXPECT_EQ(dh_telemetry_open(nullptr, "1", nullptr), nullptr);
  EXPECT_EQ(dh_telemetry_open("a", nullptr, nullptr), nullptr);
  EXPECT_EQ(dh_telemetry_track_json(nullptr, "{}"), -1);
  EXPECT_EQ(dh_telemetry_usage_counter(nullptr, "sessions", 1), -1);
  EXPECT_EQ(dh_telemetry_usage_timing(nullptr, "startup", 1.0), -1);
  EXPECT_EQ(dh_telemetry_flush(nullptr, 10), -1);
  EXPECT_EQ(dh_telemetry_enabled(nullptr), 0);
  dh_telemetry_close(nullptr);
}

}  // namespace
}  // namespace dollhouse::testing
