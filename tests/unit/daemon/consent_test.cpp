#include "daemon/consent.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace dollhouse::daemon {
namespace {

const SystemTime kNow = from_unix_millis(1'795'959'846'123LL);

// Consent given for the current policy, collection on: nothing blocks.
TelemetryConfig collecting() {
  TelemetryConfig c = default_config(kNow);
  c.consent_given = true;
  c.enabled = true;
  c.policy_version = "1.0";
  return c;
}

const KillSwitch kNoSwitch{};
const KillSwitch kDoNotTrack{true, "DO_NOT_TRACK", "set"};

TEST(CollectionBlocker, NothingBlocksWithCurrentConsentAndCollectionOn) {
  EXPECT_EQ(collection_blocker(collecting(), kNoSwitch, "1.0"), std::nullopt);
}

TEST(CollectionBlocker, KillSwitchComesFirst) {
  TelemetryConfig c = collecting();
  EXPECT_EQ(collection_blocker(c, kDoNotTrack, "1.0"), ipc::Blocker::kKillSwitch);
  c.consent_given = false;
  c.enabled = false;
  c.policy_version = "";
  EXPECT_EQ(collection_blocker(c, kDoNotTrack, "2.0"), ipc::Blocker::kKillSwitch);
}

TEST(CollectionBlocker, NoConsentComesBeforeAnOutdatedPolicyAndDisabled) {
  TelemetryConfig c = collecting();
  c.consent_given = false;
  EXPECT_EQ(collection_blocker(c, kNoSwitch, "1.0"), ipc::Blocker::kNoConsent);
  c.enabled = false;
  c.policy_version = "0.9";
  EXPECT_EQ(collection_blocker(c, kNoSwitch, "1.0"), ipc::Blocker::kNoConsent);
}

TEST(CollectionBlocker, ConsentForAnOlderPolicyIsVoid) {
  TelemetryConfig c = collecting();
  EXPECT_EQ(collection_blocker(c, kNoSwitch, "1.1"), ipc::Blocker::kPolicyOutdated);
  c.enabled = false;
  EXPECT_EQ(collection_blocker(c, kNoSwitch, "1.1"), ipc::Blocker::kPolicyOutdated);
}

TEST(CollectionBlocker, ConsentWithoutAPolicyVersionIsVoid) {
  TelemetryConfig c = collecting();
  c.policy_version.clear();
  EXPECT_EQ(collection_blocker(c, kNoSwitch, "1.0"), ipc::Blocker::kPolicyOutdated);
}

TEST(CollectionBlocker, ConsentForANewerOrEqualPolicyHolds) {
  TelemetryConfig c = collecting();
  c.policy_version = "1.10";
  EXPECT_EQ(collection_blocker(c, kNoSwitch, "1.9"), std::nullopt);
  c.policy_version = "1";
  EXPECT_EQ(collection_blocker(c, kNoSwitch, "1.0"), std::nullopt);
}

TEST(CollectionBlocker, DisabledIsTheLastBlocker) {
  TelemetryConfig c = collecting();
  c.enabled = false;
  EXPECT_EQ(collection_blocker(c, kNoSwitch, "1.0"), ipc::Blocker::kDisabled);
}

TEST(DropReason, AddsCategoryOffAfterTheBlockers) {
  TelemetryConfig c = collecting();
  c.categories["usage"] = false;
  EXPECT_EQ(drop_reason(c, kNoSwitch, "1.0", "usage", ""), ipc::DropReason::kCategoryOff);
  EXPECT_EQ(drop_reason(c, kNoSwitch, "1.0", "crash", ""), std::nullopt);
  c.enabled = false;
  EXPECT_EQ(drop_reason(c, kNoSwitch, "1.0", "usage", ""), ipc::DropReason::kDisabled);
  EXPECT_EQ(drop_reason(c, kDoNotTrack, "1.0", "usage", ""), ipc::DropReason::kKillSwitch);
}

TEST(DropReason, AnAppSwitchedOffIsDroppedAfterTheBlockersAndBeforeItsCategories) {
  TelemetryConfig c = collecting();
  c.apps["demo"].enabled = false;
  c.categories["usage"] = false;
  EXPECT_EQ(drop_reason(c, kNoSwitch, "1.0", "crash", "demo"), ipc::DropReason::kAppOff);
  EXPECT_EQ(drop_reason(c, kNoSwitch, "1.0", "usage", "demo"), ipc::DropReason::kAppOff);
  EXPECT_EQ(drop_reason(c, kNoSwitch, "1.0", "crash", "dollhousemcp"), std::nullopt);
  EXPECT_EQ(drop_reason(c, kDoNotTrack, "1.0", "crash", "demo"), ipc::DropReason::kKillSwitch);
  c.apps["demo"].enabled = true;
  EXPECT_EQ(drop_reason(c, kNoSwitch, "1.0", "crash", "demo"), std::nullopt);
}

TEST(DropReason, EmptyCategoryIsDropped) {
  EXPECT_EQ(drop_reason(collecting(), kNoSwitch, "1.0", "", ""), ipc::DropReason::kCategoryOff);
}

TEST(ComparePolicyVersions, ComparesPartsAsNumbers) {
  EXPECT_LT(compare_policy_versions("1.0", "1.10"), 0);
  EXPECT_GT(compare_policy_versions("1.10", "1.9"), 0);
  EXPECT_LT(compare_policy_versions("1.9", "2"), 0);
  EXPECT_GT(compare_policy_versions("10", "9.99"), 0);
  EXPECT_EQ(compare_policy_versions("2.3.4", "2.3.4"), 0);
}

TEST(ComparePolicyVersions, MissingPartsCountAsZero) {
  EXPECT_EQ(compare_policy_versions("1", "1.0"), 0);
  EXPECT_EQ(compare_policy_versions("1.0.0", "1"), 0);
  EXPECT_LT(compare_policy_versions("1", "1.0.1"), 0);
  EXPECT_EQ(compare_policy_versions("", "0"), 0);
  EXPECT_LT(compare_policy_versions("", "1"), 0);
}

TEST(ComparePolicyVersions, IsAntisymmetric) {
  const char* versions[] = {"", "0.9", "1", "1.0", "1.0.1", "1.2", "1.10", "2"};
  for (const char* a : versions) {
    for (const char* b : versions) {
      EXPECT_EQ(compare_policy_versions(a, b), -compare_policy_versions(b, a)) << a << " " << b;
    }
  }
}

std::map<std::string, bool> level(const char* name) {
  std::map<std::string, bool> out;
  EXPECT_TRUE(categories_for_level(name, out)) << name;
  return out;
}

TEST(CategoriesForLevel, AllTurnsEveryCategoryOn) {
  auto m = level("all");
  EXPECT_EQ(m.size(), 6u);
  for (const auto& [name, on] : m) EXPECT_TRUE(on) << name;
}

TEST(CategoriesForLevel, ErrorKeepsCrashAndErrorOnly) {
  std::map<std::string, bool> expected = {{"installation", false}, {"update", false},
                                          {"crash", true},         {"error", true},
                                          {"usage", false},        {"performance", false}};
  EXPECT_EQ(level("error"), expected);
}

TEST(CategoriesForLevel, CrashKeepsCrashOnly) {
  std::map<std::string, bool> expected = {{"installation", false}, {"update", false},
                                          {"crash", true},         {"error", false},
                                          {"usage", false},        {"performance", false}};
  EXPECT_EQ(level("crash"), expected);
}

TEST(CategoriesForLevel, OffTurnsEveryCategoryOff) {
  auto m = level("off");
  EXPECT_EQ(m.size(), 6u);
  for (const auto& [name, on] : m) EXPECT_FALSE(on) << name;
}

TEST(CategoriesForLevel, UnknownLevelIsRejectedAndLeavesTheOutputAlone) {
  std::map<std::string, bool> out = {{"usage", true}};
  for (const char* name : {"", "ALL", "everything", "custom"}) {
    EXPECT_FALSE(categories_for_level(name, out)) << name;
  }
  EXPECT_EQ(out, (std::map<std::string, bool>{{"usage", true}}));
}

TEST(LevelOf, NamesEachLevelItsOwnSwitches) {
  for (const char* name : {"all", "error", "crash", "off"}) {
    EXPECT_EQ(level_of(level(name)), name);
  }
}

TEST(LevelOf, MixedSwitchesAreCustom) {
  auto m = level("all");
  m["usage"] = false;
  EXPECT_EQ(level_of(m), "custom");
  auto e = level("error");
  e["performance"] = true;
  EXPECT_EQ(level_of(e), "custom");
}

TEST(LevelOf, MissingCategoriesCountAsOn) {
  EXPECT_EQ(level_of({}), "all");
  EXPECT_EQ(level_of({{"usage", false}}), "custom");
}

}  // namespace
}  // namespace dollhouse::daemon
