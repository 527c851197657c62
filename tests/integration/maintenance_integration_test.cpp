// Work the daemon does on its own at start and on a timer: retention and the weekly rollup.
// The database is prepared with real SQLite writes (events accepted long ago, a usage week
// that has ended) and the daemon is restarted on it.
#include <sqlite3.h>

#include <chrono>

#include <gtest/gtest.h>

#include "tests/support/daemon_harness.hpp"

namespace dollhouse::testing {
namespace {

using nlohmann::json;

std::int64_t days_ago_ms(int days) {
  auto t = std::chrono::system_clock::now() - std::chrono::hours(24 * days);
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

void exec(const std::string& db_path, const std::string& sql, std::vector<std::string> params) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
  for (std::size_t i = 0; i < params.size(); ++i) {
    sqlite3_bind_text(stmt, static_cast<int>(i + 1), params[i].c_str(), -1, SQLITE_TRANSIENT);
  }
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE) << sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

void insert_event(const std::string& db, std::int64_t created_ms, const std::string& marker) {
  std::string body = json{{"eventType", "error"}, {"errorMessage", marker}}.dump();
  exec(db,
       "INSERT INTO events (created_ms, event_type, body, bytes) VALUES (?1, 'error', ?2, "
       "length(?2))",
       {std::to_string(created_ms), body});
}

TEST(Maintenance, EventsOlderThanTheRetentionPeriodAreRemovedAndCounted) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.enable({{"maxDataRetention", 30}})["ok"].get<bool>());
  ASSERT_EQ(h.stop(), 0);
  std::string db = h.root() + "/telemetry.db";
  insert_event(db, days_ago_ms(45), "too old");
  insert_event(db, days_ago_ms(31), "just too old");
  insert_event(db, days_ago_ms(29), "recent enough");
  insert_event(db, days_ago_ms(0), "today");
  ASSERT_TRUE(h.start());
  json status = h.status();
  EXPECT_EQ(status["maxDataRetention"], 30);
  EXPECT_EQ(status["queue"]["dropped"]["evicted_retention"], 2);
  json entries = h.entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0]["data"]["errorMessage"], "today");
  EXPECT_EQ(entries[1]["data"]["errorMessage"], "recent enough");
}

TEST(Maintenance, AFinishedWeekBecomesOneWeeklySummary) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.enable()["ok"].get<bool>());
  {
    TestClient c = h.client();
    c.hello("dollhousemcp");
    for (int i = 0; i < 3; ++i) {
      EXPECT_TRUE(
          c.request({{"op", "usage"},
                     {"counters", {{"personasUsed", 2}, {"sessions", 1}}},
                     {"timings", {{"startup", 100 + 100 * i}, {"response", 40}}}})["accepted"]
              .get<bool>());
    }
    c.request({{"op", "sync"}});
  }
  json exported = h.client().request({{"op", "export"}});
  ASSERT_EQ(exported["export"]["usageInProgress"].size(), 1u);
  EXPECT_EQ(h.entries().size(), 0u) << "raw increments are never events";
  ASSERT_EQ(h.stop(), 0);
  // Move the running week into the past, as if the daemon slept through its end.
  exec(h.root() + "/telemetry.db", "UPDATE usage_weeks SET week_start = '2026-01-05|dollhousemcp'",
       {});
  ASSERT_TRUE(h.start());
  json entries = h.entries();
  ASSERT_EQ(entries.size(), 1u);
  json summary = entries[0]["data"];
  EXPECT_EQ(summary["eventType"], "weekly_summary");
  EXPECT_EQ(summary["weekStart"], "2026-01-05");
  EXPECT_EQ(summary["sessionCount"], 3);
  EXPECT_EQ(summary["features"]["personasUsed"], 6);
  EXPECT_EQ(summary["activeDays"], 1);
  EXPECT_EQ(summary["performance"]["avgStartupTime"], 200);
  EXPECT_EQ(summary["performance"]["avgResponseTime"], 40);
  EXPECT_EQ(summary["version"], "1.2.3");
  EXPECT_EQ(summary["platform"]["mcpClient"], "claude-code");
  EXPECT_TRUE(h.client().request({{"op", "export"}})["export"]["usageInProgress"].empty());
}

TEST(Maintenance, SwitchingPerformanceOffStripsTimingsFromUnsentSummaries) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.enable()["ok"].get<bool>());
  {
    TestClient c = h.client();
    c.hello("dollhousemcp");
    c.request(
        {{"op", "usage"}, {"counters", {{"skillsUsed", 4}}}, {"timings", {{"startup", 300}}}});
    c.request({{"op", "sync"}});
  }
  ASSERT_EQ(h.stop(), 0);
  exec(h.root() + "/telemetry.db", "UPDATE usage_weeks SET week_start = '2026-01-05|dollhousemcp'",
       {});
  ASSERT_TRUE(h.start());
  ASSERT_EQ(h.entries().size(), 1u);
  ASSERT_TRUE(h.entries()[0]["data"].contains("performance"));
  json reply = h.enable({{"categories", {{"performance", false}}}});
  ASSERT_TRUE(reply["ok"].get<bool>());
  json summary = h.entries()[0]["data"];
  EXPECT_FALSE(summary.contains("performance")) << summary.dump();
  EXPECT_EQ(summary["features"]["skillsUsed"], 4) << "the counts the user still shares stay";
}

}  // namespace
}  // namespace dollhouse::testing
