// Crash records against a real data root and SQLite queue: each record becomes exactly one crash
// event through the path of a track (consent, switches, schema, scrubbing), and is deleted once
// that is decided.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "daemon/crash_records.hpp"
#include "tests/unit/daemon/commands/command_fixture.hpp"

namespace dollhouse::daemon::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json crash_event(const std::string& message = "fatal signal SIGSEGV") {
  return {{"eventType", "crash"},    {"errorType", "runtime"},  {"errorCategory", "SIGSEGV"},
          {"errorMessage", message}, {"component", "renderer"}, {"recovered", false}};
}

json record_for(const std::string& app, std::int64_t time_ms, json event = crash_event()) {
  return {{"v", 1},
          {"app", app},
          {"appVersion", "2.4.1"},
          {"mcpClient", "claude-desktop"},
          {"time", time_ms},
          {"event", std::move(event)}};
}

class CrashRecords : public ::testing::Test {
 protected:
  void SetUp() override {
    Status st = prepare_crash_directory(f.dir.path());
    ASSERT_TRUE(st) << st.message();
  }

  fs::path crashes() const { return crash_directory(f.dir.path()); }

  // Writes `text` as <app part>-<pid>-<time>.json (or with `suffix`) and returns its path.
  fs::path write(const std::string& app, std::int64_t pid, std::int64_t time_ms,
                 const std::string& text, const std::string& suffix = ".json") {
    fs::path path = crashes() / (crash_file_app_part(app) + "-" + std::to_string(pid) + "-" +
                                 std::to_string(time_ms) + suffix);
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  fs::path write_record(const std::string& app, std::int64_t pid, std::int64_t time_ms,
                        json event = crash_event()) {
    return write(app, pid, time_ms, record_for(app, time_ms, std::move(event)).dump());
  }

  std::size_t files_left() const {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(crashes())) ++n;
    return n;
  }

  // A hello as `app` (the scan it starts included) and every storage task it posted.
  void hello_and_settle(const std::string& app = "dollhousemcp") {
    auto c = f.hello_connection(app);
    settle();
  }
  // Runs the I/O loop until no record is claimed any more (every event committed or put back).
  void settle() {
    f.run_until([&] {
      for (const auto& entry : fs::directory_iterator(crashes())) {
        if (entry.path().extension() == ".claimed") return false;
      }
      return true;
    });
  }

  json dropped() {
    auto c = std::make_shared<RecordedConnection>();
    return f.run(c, {{"op", "status"}})["queue"]["dropped"];
  }

  CommandFixture f;
  const std::int64_t crashed_ms = to_unix_millis(kMonday) - 3'600'000;
};

TEST_F(CrashRecords, AValidRecordBecomesOneCrashEventWithTheRecordsAppVersionAndTime) {
  f.give_consent();
  fs::path path = write_record("dollhousemcp", 4711, crashed_ms);
  hello_and_settle();
  json entries = f.shown();
  ASSERT_EQ(entries.size(), 1u) << entries.dump();
  const json& data = entries[0]["data"];
  EXPECT_EQ(entries[0]["eventType"], "crash");
  EXPECT_EQ(data["app"], "dollhousemcp");
  EXPECT_EQ(data["version"], "2.4.1") << "the record's version, not the hello's";
  EXPECT_EQ(data["timestamp"], format_iso8601(from_unix_millis(crashed_ms)));
  EXPECT_EQ(data["platform"]["mcpClient"], "claude-desktop");
  EXPECT_EQ(data["errorCategory"], "SIGSEGV");
  EXPECT_EQ(data["installId"], f.consent.config().install_id);
  EXPECT_FALSE(fs::exists(path)) << "deleted once committed";
  EXPECT_EQ(files_left(), 0u);

  hello_and_settle();
  EXPECT_EQ(f.shown().size(), 1u) << "a later hello does not count it again";
}

TEST_F(CrashRecords, ATimeAheadOfTheDaemonsClockIsStampedWithTheDaemonsTime) {
  f.give_consent();
  write_record("dollhousemcp", 1, to_unix_millis(kMonday) + 86'400'000);
  hello_and_settle();
  json entries = f.shown();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["data"]["timestamp"], format_iso8601(kMonday));
}

TEST_F(CrashRecords, WithoutConsentARecordIsDeletedAndNothingIsStored) {
  fs::path path = write_record("dollhousemcp", 4711, crashed_ms);
  hello_and_settle();
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(f.shown().empty());
  EXPECT_EQ(dropped()["no_consent"], 1);
}

TEST_F(CrashRecords, ARecordOfAnAppSwitchedOffIsDeletedAndCounted) {
  f.give_consent();
  auto ctl = std::make_shared<RecordedConnection>();
  ASSERT_TRUE(f.run(ctl, {{"op", "consent"}, {"enabled", false}, {"app", "dollhousemcp"}})["ok"]
                  .get<bool>());
  fs::path path = write_record("dollhousemcp", 4711, crashed_ms);
  hello_and_settle();
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(f.shown().empty());
  EXPECT_EQ(dropped()["app_off"], 1);
}

TEST_F(CrashRecords, ARecordWithTheCrashCategoryOffIsDeletedAndCounted) {
  f.give_consent();
  auto ctl = std::make_shared<RecordedConnection>();
  ASSERT_TRUE(
      f.run(ctl, {{"op", "consent"}, {"enabled", true}, {"categories", {{"crash", false}}}})["ok"]
          .get<bool>());
  write_record("dollhousemcp", 4711, crashed_ms);
  hello_and_settle();
  EXPECT_TRUE(f.shown().empty());
  EXPECT_EQ(dropped()["category_off"], 1);
  EXPECT_EQ(files_left(), 0u);
}

TEST_F(CrashRecords, GarbageOversizedAndUnknownVersionsAreDeletedAndCountedInvalid) {
  f.give_consent();
  write("dollhousemcp", 1, crashed_ms, "{not json");
  json big = record_for("dollhousemcp", crashed_ms);
  big["padding"] = std::string(kMaxCrashRecordBytes, 'x');
  write("dollhousemcp", 2, crashed_ms, big.dump());
  json v2 = record_for("dollhousemcp", crashed_ms);
  v2["v"] = 2;
  write("dollhousemcp", 3, crashed_ms, v2.dump());
  write_record("dollhousemcp", 4, crashed_ms, {{"eventType", "crash"}, {"errorType", "oops"}});
  write_record("dollhousemcp", 5, crashed_ms,
               {{"eventType", "installation"}, {"installMethod", "npm"}, {"installType", "new"}});
  hello_and_settle();
  EXPECT_TRUE(f.shown().empty());
  EXPECT_EQ(dropped()["invalid_event"], 5);
  EXPECT_EQ(files_left(), 0u);
}

TEST_F(CrashRecords, AFreshTempFileIsLeftAnOldOneIsDeletedNeitherBecomesAnEvent) {
  f.give_consent();
  const std::string text = record_for("dollhousemcp", crashed_ms).dump();
  fs::path fresh = write("dollhousemcp", 1, crashed_ms, text, ".tmp");
  fs::path old = write("dollhousemcp", 2, crashed_ms, text, ".tmp");
  fs::last_write_time(
      old, fs::file_time_type::clock::now() - kStaleCrashTempAge - std::chrono::seconds(30));
  hello_and_settle();
  EXPECT_TRUE(fs::exists(fresh)) << "its writer may still be about to rename it";
  EXPECT_FALSE(fs::exists(old));
  EXPECT_TRUE(f.shown().empty());
}

TEST_F(CrashRecords, AtMost32RecordsPerScanOldestFirstTheRestAtTheNextScan) {
  f.give_consent();
  const std::size_t total = kMaxCrashRecordsPerScan + 8;
  for (std::size_t i = 0; i < total; ++i) {
    // Written newest first, so the order taken is the names' time, not the directory's.
    const std::int64_t t = crashed_ms - static_cast<std::int64_t>(i) * 1000;
    write_record("dollhousemcp", static_cast<std::int64_t>(i + 1), t);
  }
  hello_and_settle();
  json first = f.shown(1000);
  ASSERT_EQ(first.size(), kMaxCrashRecordsPerScan);
  EXPECT_EQ(files_left(), total - kMaxCrashRecordsPerScan);
  std::set<std::string> oldest;
  for (const auto& e : first) oldest.insert(e["data"]["timestamp"].get<std::string>());
  EXPECT_EQ(oldest.count(format_iso8601(from_unix_millis(crashed_ms))), 0u)
      << "the newest record waits";
  EXPECT_EQ(oldest.count(format_iso8601(
                from_unix_millis(crashed_ms - static_cast<std::int64_t>(total - 1) * 1000))),
            1u)
      << "the oldest was taken first";

  hello_and_settle();
  EXPECT_EQ(f.shown(1000).size(), total);
  EXPECT_EQ(files_left(), 0u);
}

TEST_F(CrashRecords, PersonalDataInTheMessageIsScrubbedBeforeItIsStored) {
  f.give_consent();
  write_record("dollhousemcp", 7, crashed_ms,
               crash_event("cannot reach 192.168.17.42 for alice.smith@example.com"));
  hello_and_settle();
  json entries = f.shown();
  ASSERT_EQ(entries.size(), 1u);
  const std::string message = entries[0]["data"]["errorMessage"].get<std::string>();
  EXPECT_EQ(message.find("alice.smith@example.com"), std::string::npos) << message;
  EXPECT_EQ(message.find("192.168.17.42"), std::string::npos) << message;
  EXPECT_NE(message.find("cannot reach"), std::string::npos) << message;
}

TEST_F(CrashRecords, AHelloTakesOnlyItsOwnAppsRecordsAStartScanTakesEveryApps) {
  f.give_consent();
  fs::path mine = write_record("dollhousemcp", 1, crashed_ms);
  fs::path other = write_record("@scope/other-app", 2, crashed_ms);
  hello_and_settle("dollhousemcp");
  EXPECT_FALSE(fs::exists(mine));
  EXPECT_TRUE(fs::exists(other));
  EXPECT_EQ(f.shown().size(), 1u);

  CrashScanCounts counts = scan_crash_records(f.context, std::nullopt);
  EXPECT_EQ(counts.posted, 1u);
  settle();
  json entries = f.shown();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0]["data"]["app"], "@scope/other-app");
  EXPECT_FALSE(fs::exists(other));
}

TEST_F(CrashRecords, ASecondHelloWhileTheEventIsOnItsWayDoesNotTakeTheRecordAgain) {
  f.give_consent();
  write_record("dollhousemcp", 1, crashed_ms);
  auto first = f.hello_connection();
  auto second = f.hello_connection();
  settle();
  EXPECT_EQ(f.shown().size(), 1u);
  EXPECT_EQ(files_left(), 0u);
}

TEST_F(CrashRecords, ARecordClaimedByARunThatStoppedIsTakenAtTheNextStart) {
  f.give_consent();
  fs::path claimed = write("dollhousemcp", 9, crashed_ms,
                           record_for("dollhousemcp", crashed_ms).dump(), ".json.claimed");
  auto c = f.hello_connection();
  EXPECT_TRUE(fs::exists(claimed)) << "during a run a claimed record belongs to an event";
  scan_crash_records(f.context, std::nullopt);
  settle();
  EXPECT_EQ(f.shown().size(), 1u);
  EXPECT_FALSE(fs::exists(claimed));
}

TEST(CrashRecordNames, TheAppPartKeepsOnlyLowercaseDigitsAndDashDotUnderscore) {
  EXPECT_EQ(crash_file_app_part("dollhousemcp"), "dollhousemcp");
  EXPECT_EQ(crash_file_app_part("@Scope/my-app_1.2"), "__cope_my-app_1.2");
}

TEST(CrashRecordNames, PidAndTimeAreReadFromTheRightSoAnAppPartMayHoldDashes) {
  auto name = parse_crash_file_name("my-app-1234-1764633600000.json");
  ASSERT_TRUE(name);
  EXPECT_EQ(name->app_part, "my-app");
  EXPECT_EQ(name->pid, 1234);
  EXPECT_EQ(name->time_ms, 1764633600000);
  EXPECT_FALSE(parse_crash_file_name("my-app-1234-1764633600000.tmp"));
  EXPECT_FALSE(parse_crash_file_name("-1-2.json"));
  EXPECT_FALSE(parse_crash_file_name("app-x-2.json"));
}

TEST(CrashRecordContent, OptionalFieldsMayBeLeftOutOthersAreRequired) {
  json minimal = {
      {"v", 1}, {"app", "demo"}, {"appVersion", "1.0.0"}, {"time", 1}, {"event", crash_event()}};
  auto parsed = parse_crash_record(minimal.dump());
  ASSERT_TRUE(parsed) << parsed.status().message();
  EXPECT_EQ(parsed->app.mcp_client, "unknown");
  EXPECT_EQ(parsed->time_ms, 1);
  for (const char* key : {"v", "app", "appVersion", "time", "event"}) {
    json broken = minimal;
    broken.erase(key);
    EXPECT_FALSE(parse_crash_record(broken.dump())) << "without " << key;
  }
  json node = minimal;
  node["nodeVersion"] = "20.10.0";
  EXPECT_EQ(parse_crash_record(node.dump())->app.node_version, "20.10");
}

}  // namespace
}  // namespace dollhouse::daemon::testing
