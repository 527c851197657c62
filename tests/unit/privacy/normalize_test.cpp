// The small normalisers: version cutting, the mcpClient enum and the consent categories.
#include <gtest/gtest.h>

#include "privacy/privacy.hpp"

namespace dollhouse::privacy {
namespace {

TEST(CutToMajorMinor, KeepsMajorAndMinorOnly) {
  EXPECT_EQ(cut_to_major_minor("20.10.1"), "20.10");
  EXPECT_EQ(cut_to_major_minor("v18.2"), "18.2");
  EXPECT_EQ(cut_to_major_minor("21"), "21");
  EXPECT_EQ(cut_to_major_minor("v21"), "21");
  EXPECT_EQ(cut_to_major_minor("1.9.16"), "1.9");
  EXPECT_EQ(cut_to_major_minor("10.0.19045.2"), "10.0");
  EXPECT_EQ(cut_to_major_minor("2.0.0-beta.1"), "2.0");
}

TEST(CutToMajorMinor, RejectsWhatIsNotAVersion) {
  EXPECT_EQ(cut_to_major_minor(""), std::nullopt);
  EXPECT_EQ(cut_to_major_minor("v"), std::nullopt);
  EXPECT_EQ(cut_to_major_minor("abc"), std::nullopt);
  EXPECT_EQ(cut_to_major_minor("20."), std::nullopt);
  EXPECT_EQ(cut_to_major_minor("20.x"), std::nullopt);
  EXPECT_EQ(cut_to_major_minor(".1"), std::nullopt);
  EXPECT_EQ(cut_to_major_minor("1..2"), std::nullopt);
  EXPECT_EQ(cut_to_major_minor("1.2.3-"), std::nullopt);
  EXPECT_EQ(cut_to_major_minor("1.2.3 on alice-pc"), std::nullopt);
  EXPECT_EQ(cut_to_major_minor(std::string(40, '1')), std::nullopt);  // over kMaxVersionLength
}

TEST(NormalizeMcpClient, KnownValuesPassOthersBecomeOther) {
  EXPECT_EQ(normalize_mcp_client("claude-desktop"), "claude-desktop");
  EXPECT_EQ(normalize_mcp_client("claude-code"), "claude-code");
  EXPECT_EQ(normalize_mcp_client("gemini"), "gemini");
  EXPECT_EQ(normalize_mcp_client("other"), "other");
  EXPECT_EQ(normalize_mcp_client("unknown"), "unknown");
  EXPECT_EQ(normalize_mcp_client("Claude Desktop"), "claude-desktop");
  EXPECT_EQ(normalize_mcp_client("cursor"), "other");
  EXPECT_EQ(normalize_mcp_client("my-private-client 1.2"), "other");
  EXPECT_EQ(normalize_mcp_client(""), "unknown");
}

TEST(CategoryOf, MapsEventTypesToConsentCategories) {
  EXPECT_EQ(category_of("installation"), "installation");
  EXPECT_EQ(category_of("update"), "update");
  EXPECT_EQ(category_of("crash"), "crash");
  EXPECT_EQ(category_of("error"), "error");
  EXPECT_EQ(category_of("weekly_summary"), "usage");
  EXPECT_EQ(category_of("performance"), "");
  EXPECT_EQ(category_of(""), "");
  EXPECT_EQ(category_of("Crash"), "");
}

TEST(AllCategories, ListsTheSixSwitchesInDisplayOrder) {
  const std::vector<std::string> expected = {"installation", "update", "crash",
                                             "error",        "usage",  "performance"};
  EXPECT_EQ(all_categories(), expected);
}

}  // namespace
}  // namespace dollhouse::privacy
