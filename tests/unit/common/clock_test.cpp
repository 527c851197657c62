#include "common/clock.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace dollhouse {
namespace {

// Hands out a fixed byte pattern, so the UUID bits that make_uuid_v4 forces are visible.
class FixedRandom final : public RandomSource {
 public:
  explicit FixedRandom(unsigned char byte) : byte_(byte) {}
  void fill(unsigned char* buf, std::size_t n) override {
    for (std::size_t i = 0; i < n; ++i) buf[i] = byte_;
    ++calls_;
  }
  int calls() const { return calls_; }

 private:
  unsigned char byte_;
  int calls_ = 0;
};

// Counts up from a seed, so successive UUIDs differ.
class CountingRandom final : public RandomSource {
 public:
  void fill(unsigned char* buf, std::size_t n) override {
    for (std::size_t i = 0; i < n; ++i) buf[i] = next_++;
  }

 private:
  unsigned char next_ = 0;
};

int hex_value(char c) {
  return c <= '9' ? c - '0' : c - 'a' + 10;
}

TEST(FormatIso8601, WritesUtcWithMillisecondsAndZ) {
  // 2026-11-29T13:44:06.123Z, computed from the calendar independently of the formatter.
  std::int64_t days = 20'786;  // days from 1970-01-01 to 2026-11-29
  std::int64_t ms = ((days * 24 + 13) * 60 + 44) * 60'000 + 6'123;
  EXPECT_EQ(format_iso8601(from_unix_millis(ms)), "2026-11-29T13:44:06.123Z");
}

TEST(FormatIso8601, EpochAndTheMillisecondBeforeIt) {
  EXPECT_EQ(format_iso8601(from_unix_millis(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601(from_unix_millis(-1)), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_iso8601(from_unix_millis(-1000)), "1969-12-31T23:59:59.000Z");
  EXPECT_EQ(format_iso8601(from_unix_millis(-1001)), "1969-12-31T23:59:58.999Z");
}

class Iso8601RoundTrip : public ::testing::TestWithParam<std::int64_t> {};

TEST_P(Iso8601RoundTrip, ParseOfFormatGivesTheSameMillisecond) {
  SystemTime t = from_unix_millis(GetParam());
  std::string text = format_iso8601(t);
  SystemTime back;
  ASSERT_TRUE(parse_iso8601(text, back)) << text;
  EXPECT_EQ(to_unix_millis(back), GetParam()) << text;
}

INSTANTIATE_TEST_SUITE_P(AcrossEpochLeapYearsAndMillis, Iso8601RoundTrip,
                         ::testing::Values(0, 1, 999, 1000, -1, -999, -1000, -1001, -1500,
                                           -86'400'000LL * 365 * 30 + 7,  // 1940
                                           951'782'400'000LL,             // 2000-02-29
                                           1'795'959'846'123LL,           // 2026-11-29
                                           4'102'444'799'999LL,           // 2099-12-31
                                           -2'208'988'800'000LL));        // 1900-01-01

TEST(ParseIso8601, AcceptsTheFormWithoutFractionalSeconds) {
  SystemTime t;
  ASSERT_TRUE(parse_iso8601("1970-01-01T00:01:40Z", t));
  EXPECT_EQ(to_unix_millis(t), 100'000);
}

TEST(ParseIso8601, ScalesShortFractionsAndTruncatesLongOnes) {
  SystemTime t;
  ASSERT_TRUE(parse_iso8601("1970-01-01T00:00:01.5Z", t));
  EXPECT_EQ(to_unix_millis(t), 1'500);
  ASSERT_TRUE(parse_iso8601("1970-01-01T00:00:01.05Z", t));
  EXPECT_EQ(to_unix_millis(t), 1'050);
  ASSERT_TRUE(parse_iso8601("1970-01-01T00:00:01.123456Z", t));
  EXPECT_EQ(to_unix_millis(t), 1'123);
}

TEST(ParseIso8601, PreEpochDateWithMillis) {
  SystemTime t;
  ASSERT_TRUE(parse_iso8601("1969-12-31T23:59:59.250Z", t));
  EXPECT_EQ(to_unix_millis(t), -750);
}

TEST(ParseIso8601, RejectsGarbageAndLeavesOutputUntouched) {
  const std::vector<std::string> bad = {
      "",
      "not a date",
      "2026-11-29",
      "2026-11-29T13:44:06",        // no Z
      "2026-11-29T13:44:06+01:00",  // offsets are not a form we write
      "2026-11-29T13:44:06.Z",      // dot without digits
      "2026-11-29T13:44:06.123",    // fraction without Z
      "2026-11-29T13:44:06.123Zjunk",
      "2026-11-29T13:44:06.123ZZ",
      "2026-11-29 13:44:06Z",
      "2026-13-01T00:00:00Z",
      "2026-00-01T00:00:00Z",
      "2026-11-00T00:00:00Z",
      "2026-11-32T00:00:00Z",
      "2026-11-29T24:00:00Z",
      "2026-11-29T13:60:00Z",
      "2026-11-29T13:44:61Z",
      "2026-02-30T00:00:00Z",  // no such day
      "2025-02-29T00:00:00Z",  // not a leap year
      "2026-04-31T00:00:00Z",
      "9999-12-31T00:00:00Z",  // beyond what a SystemTime holds
      "0001-01-01T00:00:00Z",
      "1899-12-31T23:59:59Z",
      "2201-01-01T00:00:00Z",
  };
  const SystemTime sentinel = from_unix_millis(42);
  for (const auto& text : bad) {
    SystemTime t = sentinel;
    EXPECT_FALSE(parse_iso8601(text, t)) << '"' << text << '"';
    EXPECT_EQ(t, sentinel) << '"' << text << '"';
  }
}

TEST(ParseIso8601, AcceptsLeapDayOfALeapYear) {
  SystemTime t;
  ASSERT_TRUE(parse_iso8601("2024-02-29T12:00:00Z", t));
  EXPECT_EQ(format_iso8601(t), "2024-02-29T12:00:00.000Z");
}

TEST(MakeUuidV4, SetsVersionFourAndTheRfcVariantWhateverTheRandomBytes) {
  for (unsigned char byte : {0x00, 0xff, 0x5a}) {
    FixedRandom random(byte);
    std::string id = make_uuid_v4(random);
    ASSERT_EQ(id.size(), 36u);
    EXPECT_TRUE(is_uuid(id)) << id;
    EXPECT_EQ(id[14], '4') << id;  // version nibble
    int variant = hex_value(id[19]);
    EXPECT_EQ(variant & 0xc, 0x8) << id;  // 10xx
    EXPECT_EQ(random.calls(), 1);
  }
}

TEST(MakeUuidV4, KeepsTheRandomBitsOutsideVersionAndVariant) {
  FixedRandom zeros(0x00);
  EXPECT_EQ(make_uuid_v4(zeros), "00000000-0000-4000-8000-000000000000");
  FixedRandom ones(0xff);
  EXPECT_EQ(make_uuid_v4(ones), "ffffffff-ffff-4fff-bfff-ffffffffffff");
}

TEST(MakeUuidV4, IsLowerCaseAndLaysOutBytesInOrder) {
  CountingRandom random;
  EXPECT_EQ(make_uuid_v4(random), "00010203-0405-4607-8809-0a0b0c0d0e0f");
  EXPECT_EQ(make_uuid_v4(random), "10111213-1415-4617-9819-1a1b1c1d1e1f");
}

TEST(MakeUuidV4, SystemRandomGivesDistinctValidIds) {
  SystemRandom random;
  std::string a = make_uuid_v4(random);
  std::string b = make_uuid_v4(random);
  EXPECT_TRUE(is_uuid(a));
  EXPECT_TRUE(is_uuid(b));
  EXPECT_NE(a, b);
}

TEST(IsUuid, AcceptsCanonicalFormInEitherCase) {
  EXPECT_TRUE(is_uuid("123e4567-e89b-42d3-a456-426614174000"));
  EXPECT_TRUE(is_uuid("123E4567-E89B-42D3-A456-426614174000"));
}

TEST(IsUuid, RejectsWrongLengthHyphensAndCharacters) {
  EXPECT_FALSE(is_uuid(""));
  EXPECT_FALSE(is_uuid("123e4567-e89b-42d3-a456-42661417400"));    // 35
  EXPECT_FALSE(is_uuid("123e4567-e89b-42d3-a456-4266141740000"));  // 37
  EXPECT_FALSE(is_uuid("123e4567e89b42d3a456426614174000"));       // no hyphens
  EXPECT_FALSE(is_uuid("123e4567-e89b-42d3-a4564-26614174000"));   // hyphen moved
  EXPECT_FALSE(is_uuid("123e4567-e89b-42d3-a456_426614174000"));   // wrong separator
  EXPECT_FALSE(is_uuid("g23e4567-e89b-42d3-a456-426614174000"));   // not hex
  EXPECT_FALSE(is_uuid("123e4567-e89b-42d3-a456-42661417400-"));   // hyphen in hex place
  EXPECT_FALSE(is_uuid("{23e4567-e89b-42d3-a456-426614174000"));
  EXPECT_FALSE(is_uuid(std::string("123e4567-e89b-42d3-a456-42661417400\0", 36)));
}

TEST(UnixMillis, ConvertsBothWays) {
  EXPECT_EQ(to_unix_millis(from_unix_millis(1'795'959'846'123LL)), 1'795'959'846'123LL);
  EXPECT_EQ(to_unix_millis(from_unix_millis(-5)), -5);
  EXPECT_EQ(to_unix_millis(SystemTime{}), 0);
}

}  // namespace
}  // namespace dollhouse
