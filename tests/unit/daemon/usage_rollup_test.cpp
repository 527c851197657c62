#include "daemon/usage_rollup.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "daemon/settings.hpp"

namespace dollhouse::daemon {
namespace {

using nlohmann::json;

// ---- week_position -----------------------------------------------------------------------------

struct WeekCase {
  int year, month, day, weekday_sunday0;
  const char* week_start;
  int day_index;
};

class WeekPositionCase : public ::testing::TestWithParam<WeekCase> {};

TEST_P(WeekPositionCase, FindsTheMondayAndTheDayIndex) {
  const WeekCase& c = GetParam();
  WeekPosition p = week_position(c.year, c.month, c.day, c.weekday_sunday0);
  EXPECT_EQ(p.week_start, c.week_start);
  EXPECT_EQ(p.day_index, c.day_index);
}

INSTANTIATE_TEST_SUITE_P(
    AcrossMonthsYearsAndLeapDays, WeekPositionCase,
    ::testing::Values(WeekCase{2026, 11, 29, 0, "2026-11-23", 6},  // Sunday ends the week
                      WeekCase{2026, 11, 30, 1, "2026-11-30", 0},  // Monday starts one
                      WeekCase{2026, 11, 25, 3, "2026-11-23", 2},  // Wednesday
                      WeekCase{2026, 12, 1, 2, "2026-11-30", 1},   // across a month
                      WeekCase{2027, 1, 1, 5, "2026-12-28", 4},    // across a year (Friday)
                      WeekCase{2027, 1, 3, 0, "2026-12-28", 6},
                      WeekCase{2024, 3, 1, 5, "2024-02-26", 4},  // leap year: via Feb 29
                      WeekCase{2024, 2, 29, 4, "2024-02-26", 3},
                      WeekCase{2023, 3, 1, 3, "2023-02-27", 2},    // not a leap year
                      WeekCase{2100, 3, 1, 1, "2100-03-01", 0},    // 2100 is not a leap year
                      WeekCase{2000, 3, 2, 4, "2000-02-28", 3}));  // 2000 is

TEST(LocalWeekPosition, StartsOnAMondayNoLaterThanTheDay) {
  SystemTime t = from_unix_millis(1'795'959'846'123LL);
  WeekPosition p = local_week_position(t);
  EXPECT_GE(p.day_index, 0);
  EXPECT_LE(p.day_index, 6);
  ASSERT_EQ(p.week_start.size(), 10u);
  // The week start, as a UTC midnight, must be a Monday within the week before t.
  SystemTime start;
  ASSERT_TRUE(parse_iso8601(p.week_start + "T00:00:00Z", start));
  std::int64_t days = to_unix_millis(start) / 86'400'000;
  EXPECT_EQ((days + 3) % 7, 0) << "1970-01-01 was a Thursday, so Mondays satisfy this";
}

// ---- fold_usage --------------------------------------------------------------------------------

TEST(FoldUsage, SumsCountersAcrossCalls) {
  UsageWeek w;
  EXPECT_EQ(fold_usage(w, 0, {{"sessions", 2}, {"skillsUsed", 5}}, {}), 0u);
  EXPECT_EQ(fold_usage(w, 0, {{"sessions", 1}}, {}), 0u);
  EXPECT_EQ(w.counters["sessions"], 3);
  EXPECT_EQ(w.counters["skillsUsed"], 5);
}

TEST(FoldUsage, AccumulatesTimingsAndTheirSampleCounts) {
  UsageWeek w;
  EXPECT_EQ(fold_usage(w, 1, {}, {{"startup", 100.0}, {"response", 20.0}}), 0u);
  EXPECT_EQ(fold_usage(w, 1, {}, {{"startup", 300.0}}), 0u);
  EXPECT_DOUBLE_EQ(w.startup_ms_total, 400.0);
  EXPECT_EQ(w.startup_samples, 2);
  EXPECT_DOUBLE_EQ(w.response_ms_total, 20.0);
  EXPECT_EQ(w.response_samples, 1);
}

TEST(FoldUsage, SkipsAndCountsUnknownNegativeAndTooLargeCounters) {
  UsageWeek w;
  std::size_t skipped = fold_usage(w, 2,
                                   {{"keystrokes", 1},
                                    {"sessions", -1},
                                    {"errors", kMaxUsageIncrement + 1},
                                    {"crashes", kMaxUsageIncrement},
                                    {"agentsUsed", 0}},
                                   {});
  EXPECT_EQ(skipped, 3u);
  EXPECT_EQ(w.counters.count("keystrokes"), 0u);
  EXPECT_EQ(w.counters.count("sessions"), 0u);
  EXPECT_EQ(w.counters.count("errors"), 0u);
  EXPECT_EQ(w.counters["crashes"], kMaxUsageIncrement);
}

TEST(FoldUsage, SkipsAndCountsNonFiniteNegativeTooLargeAndUnknownTimings) {
  UsageWeek w;
  std::size_t skipped = fold_usage(w, 2, {},
                                   {{"startup", std::numeric_limits<double>::quiet_NaN()},
                                    {"response", std::numeric_limits<double>::infinity()},
                                    {"render", 5.0}});
  EXPECT_EQ(skipped, 3u);
  skipped = fold_usage(w, 2, {}, {{"startup", -1.0}, {"response", kMaxTimingMs * 2}});
  EXPECT_EQ(skipped, 2u);
  EXPECT_EQ(w.startup_samples, 0);
  EXPECT_EQ(w.response_samples, 0);
  EXPECT_DOUBLE_EQ(w.startup_ms_total, 0.0);
  EXPECT_DOUBLE_EQ(w.response_ms_total, 0.0);
}

TEST(FoldUsage, SetsTheBitOfEachActiveDay) {
  UsageWeek w;
  (void)fold_usage(w, 0, {{"sessions", 1}}, {});
  (void)fold_usage(w, 6, {{"sessions", 1}}, {});
  (void)fold_usage(w, 6, {{"sessions", 1}}, {});
  EXPECT_EQ(w.active_days, (1u << 0) | (1u << 6));
}

TEST(FoldUsage, IgnoresADayIndexOutsideTheWeek) {
  UsageWeek w;
  (void)fold_usage(w, 7, {{"sessions", 1}}, {});
  (void)fold_usage(w, -1, {{"sessions", 1}}, {});
  EXPECT_EQ(w.active_days, 0u);
  EXPECT_EQ(w.counters["sessions"], 2);
}

// ---- JSON --------------------------------------------------------------------------------------

TEST(UsageWeekJson, RoundTripKeepsEverything) {
  UsageWeek w;
  (void)fold_usage(w, 3, {{"sessions", 4}, {"memoriesUsed", 9}},
                   {{"startup", 120.5}, {"response", 33.25}});
  (void)fold_usage(w, 5, {{"errors", 1}}, {{"startup", 80.0}});
  json j = usage_week_to_json(w);
  UsageWeek back = usage_week_from_json(json::parse(j.dump()));
  EXPECT_EQ(back.counters, w.counters);
  EXPECT_DOUBLE_EQ(back.startup_ms_total, w.startup_ms_total);
  EXPECT_EQ(back.startup_samples, w.startup_samples);
  EXPECT_DOUBLE_EQ(back.response_ms_total, w.response_ms_total);
  EXPECT_EQ(back.response_samples, w.response_samples);
  EXPECT_EQ(back.active_days, w.active_days);
}

TEST(UsageWeekJson, DamagedJsonGivesAnEmptyWeek) {
  for (const json& bad :
       {json::array(), json("x"), json{{"counters", "not a map"}, {"startupSamples", 3}},
        json{{"startupMsTotal", "fast"}}}) {
    UsageWeek w = usage_week_from_json(bad);
    EXPECT_TRUE(w.counters.empty()) << bad.dump();
    EXPECT_EQ(w.startup_samples, 0) << bad.dump();
    EXPECT_DOUBLE_EQ(w.startup_ms_total, 0.0) << bad.dump();
    EXPECT_EQ(w.active_days, 0u) << bad.dump();
  }
}

TEST(UsageWeekJson, KeepsOnlyTheSevenDayBits) {
  UsageWeek w = usage_week_from_json({{"activeDays", 0xffu}});
  EXPECT_EQ(w.active_days, 0x7fu);
}

// ---- weekly_summary ----------------------------------------------------------------------------

TEST(WeeklySummary, CarriesWeekDaysSessionsFeaturesAndHealth) {
  UsageWeek w;
  (void)fold_usage(w, 0, {{"sessions", 2}, {"personasUsed", 3}, {"crashes", 1}}, {});
  (void)fold_usage(w, 2, {{"sessions", 1}, {"errors", 4}}, {});
  (void)fold_usage(w, 4, {{"portfolioSyncs", 7}}, {});
  json s = weekly_summary("2026-11-23", w, false);
  EXPECT_EQ(s["eventType"], "weekly_summary");
  EXPECT_EQ(s["weekStart"], "2026-11-23");
  EXPECT_EQ(s["activeDays"], 3);
  EXPECT_EQ(s["sessionCount"], 3);
  EXPECT_EQ(s["features"]["personasUsed"], 3);
  EXPECT_EQ(s["features"]["portfolioSyncs"], 7);
  EXPECT_EQ(s["health"]["crashCount"], 1);
  EXPECT_EQ(s["health"]["errorCount"], 4);
}

TEST(WeeklySummary, ListsEveryFeatureEvenWhenUnused) {
  json s = weekly_summary("2026-11-23", UsageWeek{}, false);
  ASSERT_TRUE(s["features"].is_object());
  for (const char* name : {"personasUsed", "skillsUsed", "templatesUsed", "agentsUsed",
                           "memoriesUsed", "portfolioSyncs", "collectionBrowses"}) {
    ASSERT_TRUE(s["features"].contains(name)) << name;
    EXPECT_EQ(s["features"][name], 0) << name;
  }
  EXPECT_EQ(s["features"].size(), 7u) << "counters that are not features stay out";
  EXPECT_EQ(s["activeDays"], 0);
  EXPECT_EQ(s["sessionCount"], 0);
}

TEST(WeeklySummary, OmitsPerformanceWhenNotIncluded) {
  UsageWeek w;
  (void)fold_usage(w, 0, {}, {{"startup", 100.0}});
  EXPECT_FALSE(weekly_summary("2026-11-23", w, false).contains("performance"));
}

TEST(WeeklySummary, AveragesTimingsRoundedToWholeMilliseconds) {
  UsageWeek w;
  (void)fold_usage(w, 0, {}, {{"startup", 100.0}, {"response", 10.2}});
  (void)fold_usage(w, 1, {}, {{"startup", 101.0}, {"response", 10.4}});
  (void)fold_usage(w, 1, {}, {{"response", 10.0}});
  json s = weekly_summary("2026-11-23", w, true);
  ASSERT_TRUE(s.contains("performance"));
  // 201 / 2 = 100.5 rounds half away from zero; 30.6 / 3 = 10.2 rounds down.
  EXPECT_DOUBLE_EQ(s["performance"]["avgStartupTime"].get<double>(), 101.0);
  EXPECT_DOUBLE_EQ(s["performance"]["avgResponseTime"].get<double>(), 10.0);
}

TEST(WeeklySummary, AveragesAreZeroWithoutSamples) {
  json s = weekly_summary("2026-11-23", UsageWeek{}, true);
  EXPECT_DOUBLE_EQ(s["performance"]["avgStartupTime"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(s["performance"]["avgResponseTime"].get<double>(), 0.0);
}

}  // namespace
}  // namespace dollhouse::daemon
