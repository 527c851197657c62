#include "ctl/format.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace dollhouse::ctl {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const SystemTime kNow = from_unix_millis(1'795'959'846'123LL);  // 2026-11-29T13:44:06.123Z

std::string ago(SystemTime::duration d) {
  return relative_time(format_iso8601(kNow - d), kNow);
}
std::string ahead(SystemTime::duration d) {
  return relative_time(format_iso8601(kNow + d), kNow);
}

TEST(RelativeTime, UnderFortyFiveSecondsIsJustNow) {
  EXPECT_EQ(ago(seconds(0)), "just now");
  EXPECT_EQ(ago(seconds(44)), "just now");
  EXPECT_EQ(ahead(seconds(30)), "just now");
}

TEST(RelativeTime, FortyFiveToFiftyNineSecondsIsAMinute) {
  EXPECT_EQ(ago(seconds(45)), "1 minute ago");
  EXPECT_EQ(ago(seconds(59)), "1 minute ago");
  EXPECT_EQ(ahead(seconds(50)), "in 1 minute");
}

TEST(RelativeTime, MinutesAgo) {
  EXPECT_EQ(ago(minutes(1)), "1 minute ago");
  EXPECT_EQ(ago(minutes(5)), "5 minutes ago");
  EXPECT_EQ(ago(minutes(59)), "59 minutes ago");
}

TEST(RelativeTime, HoursAgoRoundedToTheNearestHour) {
  EXPECT_EQ(ago(hours(1)), "1 hour ago");
  EXPECT_EQ(ago(hours(3) + minutes(29)), "3 hours ago");
  EXPECT_EQ(ago(hours(3) + minutes(31)), "4 hours ago");
}

TEST(RelativeTime, DaysAgo) {
  EXPECT_EQ(ago(days(1)), "1 day ago");
  EXPECT_EQ(ago(days(3)), "3 days ago");
}

TEST(RelativeTime, MonthsAndYearsAgo) {
  EXPECT_EQ(ago(days(60)), "2 months ago");
  EXPECT_EQ(ago(days(365)), "1 year ago");
  EXPECT_EQ(ago(days(3 * 365)), "3 years ago");
}

TEST(RelativeTime, FutureTimesReadAsIn) {
  EXPECT_EQ(ahead(hours(2)), "in 2 hours");
  EXPECT_EQ(ahead(minutes(10)), "in 10 minutes");
  EXPECT_EQ(ahead(days(1)), "in 1 day");
}

TEST(RelativeTime, UnparsableTextIsReturnedAsIs) {
  for (const char* text : {"", "yesterday", "2026-11-29", "2026-11-29T13:44:06+01:00"}) {
    EXPECT_EQ(relative_time(text, kNow), text);
  }
}

TEST(AlignedRows, PadsLabelsToTheWidestPlusTwoSpaces) {
  std::string out = aligned_rows({{"status", "running"}, {"queue", "3 pending"}, {"id", "x"}});
  EXPECT_EQ(out,
            "status  running\n"
            "queue   3 pending\n"
            "id      x\n");
}

TEST(AlignedRows, IndentsContinuationLinesUnderTheValue) {
  std::string out = aligned_rows({{"a", "one"}, {"dropped", "kill_switch: 2\nno_consent: 5"}});
  EXPECT_EQ(out,
            "a        one\n"
            "dropped  kill_switch: 2\n"
            "         no_consent: 5\n");
}

TEST(AlignedRows, EmptyInputGivesEmptyOutput) {
  EXPECT_EQ(aligned_rows({}), "");
}

TEST(AlignedRows, EmptyValueStillEndsTheRow) {
  EXPECT_EQ(aligned_rows({{"label", ""}}), "label  \n");
}

}  // namespace
}  // namespace dollhouse::ctl
