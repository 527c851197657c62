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

TEST(RelativeTime, UnderFortyFiveSecondsAgoIsJustNow) {
  EXPECT_EQ(ago(seconds(0)), "just now");
  EXPECT_EQ(ago(seconds(1)), "just now");
  EXPECT_EQ(ago(seconds(44)), "just now");
}

TEST(RelativeTime, UnderFortyFiveSecondsAheadIsInLessThanAMinute) {
  EXPECT_EQ(ahead(seconds(1)), "in less than a minute");
  EXPECT_EQ(ahead(seconds(30)), "in less than a minute");
  EXPECT_EQ(ahead(seconds(44)), "in less than a minute");
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

SystemTime at(const char* iso) {
  SystemTime t;
  EXPECT_TRUE(parse_iso8601(iso, t)) << iso;
  return t;
}

std::string user_time(const std::string& text) {
  SystemTime t;
  return parse_user_time(text, t) ? format_iso8601(t) : "refused";
}

TEST(ParseUserTime, ADateIsMidnightUtc) {
  EXPECT_EQ(user_time("2026-12-01"), "2026-12-01T00:00:00.000Z");
  EXPECT_EQ(user_time("2024-02-29"), "2024-02-29T00:00:00.000Z");
}

TEST(ParseUserTime, UtcTimesAreTakenAsTheyAre) {
  EXPECT_EQ(user_time("2026-12-01T10:00:00Z"), "2026-12-01T10:00:00.000Z");
  EXPECT_EQ(user_time("2026-12-01T10:00:00.5Z"), "2026-12-01T10:00:00.500Z");
  EXPECT_EQ(user_time("2026-12-01T10:00:00.123456Z"), "2026-12-01T10:00:00.123Z");
  EXPECT_EQ(user_time("2026-12-01t10:00z"), "2026-12-01T10:00:00.000Z");
  EXPECT_EQ(user_time("2026-12-01 10:00:07Z"), "2026-12-01T10:00:07.000Z");
}

TEST(ParseUserTime, OffsetsAreConvertedToUtc) {
  EXPECT_EQ(user_time("2026-12-01T10:00:00+01:00"), "2026-12-01T09:00:00.000Z");
  EXPECT_EQ(user_time("2026-12-01T10:00:00-05:30"), "2026-12-01T15:30:00.000Z");
  EXPECT_EQ(user_time("2026-12-01T10:00:00+0100"), "2026-12-01T09:00:00.000Z");
  EXPECT_EQ(user_time("2026-12-01T10:00:00-00:00"), "2026-12-01T10:00:00.000Z");
  EXPECT_EQ(user_time("2026-12-01T10:00:00.250+05:45"), "2026-12-01T04:15:00.250Z");
}

TEST(ParseUserTime, OffsetsCrossDayMonthAndYearBoundaries) {
  EXPECT_EQ(user_time("2026-12-01T00:30:00+01:00"), "2026-11-30T23:30:00.000Z");
  EXPECT_EQ(user_time("2026-12-31T23:00:00-05:00"), "2027-01-01T04:00:00.000Z");
}

TEST(ParseUserTime, TheResultIsWhatTheDaemonParses) {
  SystemTime t;
  ASSERT_TRUE(parse_user_time("2026-12-01T10:00:00+01:00", t));
  SystemTime back;
  ASSERT_TRUE(parse_iso8601(format_iso8601(t), back));
  EXPECT_EQ(back, at("2026-12-01T09:00:00Z"));
}

TEST(ParseUserTime, RefusesWhatIsNotATimeWithAZone) {
  for (const char* text : {"",
                           "yesterday",
                           "2026-12",
                           "2026-12-1",
                           "2026-13-01",
                           "2026-02-30",
                           "2026-12-01T",
                           "2026-12-01T10",
                           "2026-12-01T10:00:00",
                           "2026-12-01T10:00:00+1",
                           "2026-12-01T10:00:00+01:",
                           "2026-12-01T10:00:00+24:00",
                           "2026-12-01T10:00:00+01:60",
                           "2026-12-01T24:00:00Z",
                           "2026-12-01T10:60:00Z",
                           "2026-12-01T10:00:00.Z",
                           "2026-12-01T10:00:00Zjunk",
                           "2026-12-01x",
                           "1899-12-31",
                           "2201-01-01",
                           "2200-12-31T23:00:00-05:00"}) {
    SystemTime t = kNow;
    EXPECT_FALSE(parse_user_time(text, t)) << text;
    EXPECT_EQ(t, kNow) << "unchanged on failure: " << text;
  }
}

TEST(ShellQuote, PlainWordsStayAsTheyAre) {
  EXPECT_EQ(shell_quote("/tmp/dh-test.1/root"), "/tmp/dh-test.1/root");
  EXPECT_EQ(shell_quote("C:relative_path-1"), "C:relative_path-1");
}

TEST(ShellQuote, AnythingElseIsSingleQuoted) {
  EXPECT_EQ(shell_quote(""), "''");
  EXPECT_EQ(shell_quote("/tmp/my root"), "'/tmp/my root'");
  EXPECT_EQ(shell_quote("$HOME/~x"), "'$HOME/~x'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote("\\\\.\\pipe\\x"), "'\\\\.\\pipe\\x'");
}

TEST(OutputTail, ShortOutputIsKeptWithoutTrailingWhiteSpace) {
  EXPECT_EQ(output_tail("one line\n\n", 20, 2000), "one line");
  EXPECT_EQ(output_tail("a\nb\n", 20, 2000), "a\nb");
  EXPECT_EQ(output_tail(" \n\t\n", 20, 2000), "");
}

TEST(OutputTail, KeepsTheLastLines) {
  EXPECT_EQ(output_tail("1\n2\n3\n4\n", 2, 2000), "(earlier output left out)\n3\n4");
}

TEST(OutputTail, KeepsWholeLinesWithinTheByteBudget) {
  EXPECT_EQ(output_tail("aaaaaaaaaa\nbbbb\ncccc", 20, 10), "(earlier output left out)\nbbbb\ncccc");
}

TEST(OutputTail, KeepsTheEndOfALineLongerThanTheBudget) {
  EXPECT_EQ(output_tail("0123456789", 20, 4), "(earlier output left out)\n6789");
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
