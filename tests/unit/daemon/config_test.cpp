#include "daemon/config.hpp"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "common/private_file.hpp"
#include "daemon/consent_state.hpp"
#include "daemon/settings.hpp"
#include "tests/support/temp_dir.hpp"

namespace dollhouse::daemon {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const SystemTime kNow = from_unix_millis(1'795'959'846'123LL);  // 2026-11-29T13:44:06.123Z
const char* kCategories[] = {"installation", "update", "crash", "error", "usage", "performance"};
const char* kInstallId = "123e4567-e89b-42d3-a456-426614174000";

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

TelemetryConfig consented_config() {
  TelemetryConfig c = default_config(kNow);
  c.install_id = kInstallId;
  c.enabled = true;
  c.consent_given = true;
  c.consent_timestamp = "2026-11-29T13:44:06.123Z";
  c.policy_version = "1.0";
  c.max_data_retention = 30;
  c.categories["usage"] = false;
  c.endpoint = "https://example.test/ingest";
  return c;
}

// ---- default_config ----------------------------------------------------------------------------

TEST(DefaultConfig, HasEveryCategoryOnAndNoConsent) {
  TelemetryConfig c = default_config(kNow);
  EXPECT_FALSE(c.consent_given);
  EXPECT_FALSE(c.enabled);
  EXPECT_TRUE(c.install_id.empty());
  EXPECT_EQ(c.created_at, format_iso8601(kNow));
  EXPECT_EQ(c.max_data_retention, kDefaultMaxDataRetention);
  for (const char* name : kCategories) {
    ASSERT_TRUE(c.categories.count(name)) << name;
    EXPECT_TRUE(c.categories.at(name)) << name;
  }
  EXPECT_TRUE(c.collect_crash_reports());
  EXPECT_TRUE(c.collect_usage_stats());
  EXPECT_TRUE(c.collect_performance_metrics());
}

TEST(TelemetryConfig, CoarseSwitchesFollowTheCategories) {
  TelemetryConfig c = default_config(kNow);
  c.categories["error"] = false;
  EXPECT_FALSE(c.collect_crash_reports()) << "crash reports need both crash and error";
  c.categories["error"] = true;
  c.categories["crash"] = false;
  EXPECT_FALSE(c.collect_crash_reports());
  c.categories["usage"] = false;
  EXPECT_FALSE(c.collect_usage_stats());
  EXPECT_TRUE(c.collect_performance_metrics());
  c.categories["performance"] = false;
  EXPECT_FALSE(c.collect_performance_metrics());
}

TEST(TelemetryConfig, AnUnlistedCategoryCountsAsOn) {
  TelemetryConfig c;
  EXPECT_TRUE(c.category_enabled("update"));
}

// ---- to_json / config_from_json ----------------------------------------------------------------

TEST(ConfigJson, RoundTripKeepsEveryField) {
  TelemetryConfig c = consented_config();
  c.categories["error"] = false;
  auto back = config_from_json(to_json(c));
  ASSERT_TRUE(back) << back.status().message();
  EXPECT_EQ(back->install_id, c.install_id);
  EXPECT_EQ(back->created_at, c.created_at);
  EXPECT_EQ(back->enabled, c.enabled);
  EXPECT_EQ(back->consent_given, c.consent_given);
  EXPECT_EQ(back->consent_timestamp, c.consent_timestamp);
  EXPECT_EQ(back->policy_version, c.policy_version);
  EXPECT_EQ(back->max_data_retention, c.max_data_retention);
  EXPECT_EQ(back->categories, c.categories);
  EXPECT_EQ(back->endpoint, c.endpoint);
}

TEST(ConfigJson, WritesTheSeedFieldNames) {
  json j = to_json(consented_config());
  for (const char* key : {"installId", "createdAt", "enabled", "consentGiven", "consentTimestamp",
                          "policyVersion", "collectCrashReports", "collectUsageStats",
                          "collectPerformanceMetrics", "maxDataRetention", "categories"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["collectUsageStats"], json(false));
  EXPECT_EQ(j["collectCrashReports"], json(true));
}

TEST(ConfigJson, WritesUnsetStringsAsNullAndOmitsAnEmptyEndpoint) {
  json j = to_json(default_config(kNow));
  EXPECT_TRUE(j["installId"].is_null());
  EXPECT_TRUE(j["consentTimestamp"].is_null());
  EXPECT_TRUE(j["policyVersion"].is_null());
  EXPECT_FALSE(j.contains("endpoint"));
  auto back = config_from_json(j);
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->install_id.empty());
  EXPECT_TRUE(back->policy_version.empty());
}

TEST(ConfigJson, MissingFieldsTakeDefaults) {
  auto c = config_from_json(json::object());
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->consent_given);
  EXPECT_FALSE(c->enabled);
  EXPECT_EQ(c->max_data_retention, kDefaultMaxDataRetention);
  for (const char* name : kCategories) EXPECT_TRUE(c->category_enabled(name)) << name;
}

TEST(ConfigJson, SeedCoarseSwitchesMapToCategories) {
  auto c = config_from_json({{"collectCrashReports", false},
                             {"collectUsageStats", false},
                             {"collectPerformanceMetrics", true}});
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->category_enabled("crash"));
  EXPECT_FALSE(c->category_enabled("error"));
  EXPECT_FALSE(c->category_enabled("usage"));
  EXPECT_TRUE(c->category_enabled("performance"));
  EXPECT_TRUE(c->category_enabled("installation"));
  EXPECT_TRUE(c->category_enabled("update"));
}

TEST(ConfigJson, CategoriesRefineTheCoarseSwitches) {
  auto c = config_from_json({{"collectCrashReports", false},
                             {"collectUsageStats", true},
                             {"categories", {{"crash", true}, {"usage", false}}}});
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->category_enabled("crash"));   // category wins
  EXPECT_FALSE(c->category_enabled("error"));  // still from the coarse switch
  EXPECT_FALSE(c->category_enabled("usage"));
}

TEST(ConfigJson, UnknownCategoryNamesAreIgnored) {
  auto c = config_from_json({{"categories", {{"telepathy", true}}}});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->categories.count("telepathy"), 0u);
}

class ConfigCorrupt : public ::testing::TestWithParam<json> {};

TEST_P(ConfigCorrupt, IsRejectedAsCorrupt) {
  auto c = config_from_json(GetParam());
  ASSERT_FALSE(c) << GetParam().dump();
  EXPECT_EQ(c.status().code(), "corrupt") << GetParam().dump();
  EXPECT_FALSE(c.status().message().empty());
}

INSTANTIATE_TEST_SUITE_P(
    WrongTypesAndOutOfRangeValues, ConfigCorrupt,
    ::testing::Values(json::array(), json("text"), json(1), json{{"enabled", "yes"}},
                      json{{"consentGiven", 1}}, json{{"installId", 42}},
                      json{{"createdAt", false}}, json{{"policyVersion", 1.0}},
                      json{{"maxDataRetention", "90"}},
                      json{{"maxDataRetention", true}},  // a bool is not a number of days
                      json{{"endpoint", json::array()}}, json{{"collectUsageStats", "no"}},
                      json{{"categories", json::array()}}, json{{"categories", {{"crash", "off"}}}},
                      json{{"installId", "not-a-uuid"}},
                      json{{"installId", "123e4567-e89b-42d3-a456-42661417400"}},
                      json{{"maxDataRetention", 0}}, json{{"maxDataRetention", -5}},
                      json{{"maxDataRetention", kMaxMaxDataRetention + 1}}));

TEST(ConfigJson, RetentionBoundsAreInclusive) {
  auto low = config_from_json({{"maxDataRetention", 1}});
  ASSERT_TRUE(low);
  EXPECT_EQ(low->max_data_retention, 1);
  auto high = config_from_json({{"maxDataRetention", kMaxMaxDataRetention}});
  ASSERT_TRUE(high);
  EXPECT_EQ(high->max_data_retention, kMaxMaxDataRetention);
}

// ---- load_config / save_config -----------------------------------------------------------------

TEST(LoadConfig, MissingFileGivesDefaultsWithoutConsent) {
  testing::TempDir dir;
  LoadedConfig loaded = load_config(dir.file("telemetry.json"), kNow);
  EXPECT_FALSE(loaded.existed);
  EXPECT_TRUE(loaded.moved_aside.empty());
  EXPECT_FALSE(loaded.config.consent_given);
  EXPECT_FALSE(loaded.config.enabled);
  EXPECT_EQ(loaded.config.created_at, format_iso8601(kNow));
  EXPECT_FALSE(fs::exists(dir.file("telemetry.json"))) << "loading must not create the file";
}

TEST(LoadConfig, SavedConfigLoadsBack) {
  testing::TempDir dir;
  std::string path = dir.file("telemetry.json");
  TelemetryConfig c = consented_config();
  ASSERT_TRUE(save_config(path, c));
  LoadedConfig loaded = load_config(path, kNow + std::chrono::hours(1));
  EXPECT_TRUE(loaded.existed);
  EXPECT_TRUE(loaded.moved_aside.empty());
  EXPECT_TRUE(loaded.config.consent_given);
  EXPECT_EQ(loaded.config.install_id, kInstallId);
  EXPECT_EQ(loaded.config.created_at, c.created_at);
  EXPECT_EQ(loaded.config.categories, c.categories);
}

TEST(LoadConfig, FileWithoutCreatedAtGetsNow) {
  testing::TempDir dir;
  std::string path = dir.file("telemetry.json");
  write_file(path, R"({"consentGiven":false})");
  LoadedConfig loaded = load_config(path, kNow);
  EXPECT_TRUE(loaded.existed);
  EXPECT_EQ(loaded.config.created_at, format_iso8601(kNow));
}

void expect_corrupt_file_moved_aside(const std::string& content) {
  testing::TempDir dir;
  std::string path = dir.file("telemetry.json");
  write_file(path, content);
  LoadedConfig loaded = load_config(path, kNow);
  EXPECT_TRUE(loaded.existed);
  EXPECT_FALSE(loaded.config.consent_given) << "a damaged file never turns collection on";
  EXPECT_FALSE(loaded.config.enabled);
  std::string expected_aside = path + ".corrupt-" + std::to_string(to_unix_millis(kNow));
  EXPECT_EQ(loaded.moved_aside, expected_aside);
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(read_file(expected_aside), content) << "the damaged file is kept as it was";
}

TEST(LoadConfig, UnparsableFileIsMovedAsideAndReadAsNoConsent) {
  expect_corrupt_file_moved_aside(R"({"consentGiven": true, "enabled": tr)");
}

TEST(LoadConfig, WrongTypedFileThatClaimsConsentIsReadAsNoConsent) {
  expect_corrupt_file_moved_aside(
      R"({"consentGiven": true, "enabled": true, "policyVersion": "1.0", "installId": 7})");
}

TEST(LoadConfig, EmptyFileIsCorrupt) {
  expect_corrupt_file_moved_aside("");
}

TEST(SaveConfig, WritesMode0600AndLeavesNoTemporaryFile) {
  testing::TempDir dir;
  std::string path = dir.file("telemetry.json");
  ASSERT_TRUE(save_config(path, consented_config()));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  int files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1);
}

TEST(SaveConfig, ReplacesAnExistingFileWholly) {
  testing::TempDir dir;
  std::string path = dir.file("telemetry.json");
  write_file(path, std::string(10'000, ' ') + "{}");  // longer than what replaces it
  ::chmod(path.c_str(), 0644);
  TelemetryConfig c = consented_config();
  ASSERT_TRUE(save_config(path, c));
  json j = json::parse(read_file(path), nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["installId"], json(kInstallId));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST(SaveConfig, StaleTemporaryFileWithWiderModeDoesNotWidenTheConfig) {
  testing::TempDir dir;
  std::string path = dir.file("telemetry.json");
  write_file(path + ".tmp", "left over");
  ASSERT_EQ(::chmod((path + ".tmp").c_str(), 0644), 0);
  ASSERT_TRUE(save_config(path, consented_config()));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(SaveConfig, FailsWithIoErrorWhenTheDirectoryIsMissing) {
  testing::TempDir dir;
  Status st = save_config(dir.file("no/such/dir/telemetry.json"), consented_config());
  EXPECT_FALSE(st);
  EXPECT_EQ(st.code(), "io_error");
}

// ---- only_takes_consent_away -------------------------------------------------------------------

TelemetryConfig withdrawn_from(TelemetryConfig c) {
  c.enabled = false;
  c.consent_given = false;
  c.answer = ipc::ConsentAnswer::kWithdrawn;
  c.consent_timestamp = "2026-11-30T08:00:00.000Z";
  return c;
}

TEST(OnlyTakesConsentAway, AWithdrawalACategoryOrAnAppSwitchedOffTakeConsentAway) {
  const TelemetryConfig given = consented_config();
  EXPECT_TRUE(only_takes_consent_away(given, withdrawn_from(given)));
  TelemetryConfig category_off = given;
  category_off.categories["crash"] = false;
  EXPECT_TRUE(only_takes_consent_away(given, category_off));
  TelemetryConfig app_off = given;
  app_off.apps["dollhousemcp"].enabled = false;
  EXPECT_TRUE(only_takes_consent_away(given, app_off));
  TelemetryConfig shorter = given;
  shorter.max_data_retention = 7;
  EXPECT_TRUE(only_takes_consent_away(given, shorter));
}

TEST(OnlyTakesConsentAway, AnythingThatGivesOrChangesNothingDoesNot) {
  const TelemetryConfig given = consented_config();
  const TelemetryConfig withdrawn = withdrawn_from(given);
  EXPECT_FALSE(only_takes_consent_away(withdrawn, given)) << "consent given again";
  EXPECT_FALSE(only_takes_consent_away(given, given)) << "nothing taken away";
  TelemetryConfig category_on = given;
  category_on.categories["usage"] = true;
  EXPECT_FALSE(only_takes_consent_away(given, category_on));
  TelemetryConfig app_off = given;
  app_off.apps["dollhousemcp"].enabled = false;
  EXPECT_FALSE(only_takes_consent_away(app_off, given)) << "an app switched on again";
  TelemetryConfig mixed = given;
  mixed.categories["crash"] = false;
  mixed.categories["usage"] = true;
  EXPECT_FALSE(only_takes_consent_away(given, mixed)) << "one off, another on";
  TelemetryConfig endpoint = withdrawn_from(given);
  endpoint.endpoint = "https://elsewhere.test/ingest";
  EXPECT_FALSE(only_takes_consent_away(given, endpoint));
  TelemetryConfig new_id = given;
  new_id.install_id = "223e4567-e89b-42d3-a456-426614174000";
  new_id.categories["crash"] = false;
  EXPECT_FALSE(only_takes_consent_away(given, new_id));
  TelemetryConfig longer = given;
  longer.max_data_retention = 365;
  longer.categories["crash"] = false;
  EXPECT_FALSE(only_takes_consent_away(given, longer));
}

// ---- save_config_in_place -----------------------------------------------------------------------

ino_t inode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_ino;
}

TEST(SaveConfigInPlace, RewritesTheSameFileAndLoadsBack) {
  testing::TempDir dir;
  std::string path = dir.file("telemetry.json");
  ASSERT_TRUE(save_config(path, consented_config()));
  const ino_t before = inode_of(path);
  Status st = save_config_in_place(path, withdrawn_from(consented_config()));
  ASSERT_TRUE(st) << st.message();
  EXPECT_EQ(inode_of(path), before) << "no new file";
  LoadedConfig loaded = load_config(path, kNow);
  EXPECT_TRUE(loaded.moved_aside.empty());
  EXPECT_EQ(loaded.config.answer, ipc::ConsentAnswer::kWithdrawn);
  EXPECT_FALSE(loaded.config.consent_given);
  EXPECT_EQ(read_file(path), to_json(withdrawn_from(consented_config())).dump(2) + "\n")
      << "cut to the new length";
}

TEST(SaveConfigInPlace, ContentLargerThanTheFileHoldsIsRefusedAndChangesNothing) {
  testing::TempDir dir;
  std::string path = dir.file("telemetry.json");
  ASSERT_TRUE(save_config(path, consented_config()));
  const std::string before = read_file(path);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  TelemetryConfig big = withdrawn_from(consented_config());
  // More app entries than the file's blocks hold.
  for (int i = 0; static_cast<std::int64_t>(to_json(big).dump(2).size()) <=
                  static_cast<std::int64_t>(st.st_blocks) * 512;
       ++i) {
    big.apps["app-" + std::to_string(i)].enabled = false;
  }
  Status saved = save_config_in_place(path, big);
  EXPECT_FALSE(saved);
  EXPECT_EQ(saved.code(), "no_space") << saved.message();
  EXPECT_EQ(read_file(path), before);
}

TEST(SaveConfigInPlace, AMissingFileIsNotCreated) {
  testing::TempDir dir;
  std::string path = dir.file("telemetry.json");
  EXPECT_FALSE(save_config_in_place(path, withdrawn_from(consented_config())));
  EXPECT_FALSE(fs::exists(path));
}

// What a crash in the middle of an in-place rewrite leaves is read as damaged: no consent.
TEST(LoadConfig, AFileTornByAnInPlaceRewriteIsReadAsNoConsent) {
  std::string text = to_json(consented_config()).dump(2) + "\n";
  text[0] = kTornFileMarker;
  expect_corrupt_file_moved_aside(text);
}

// ---- ConsentState on a full disk
// -----------------------------------------------------------------

class FixedRandom final : public RandomSource {
 public:
  void fill(unsigned char* buf, std::size_t n) override {
    for (std::size_t i = 0; i < n; ++i) buf[i] = static_cast<unsigned char>(i + 1);
  }
};

// No new file can be made beside telemetry.json (as on a full disk): something is in the way of
// its temporary file.
void block_temporary_file(const std::string& path) {
  fs::create_directories(path + ".tmp/in-the-way");
}

TEST(ConsentState, AWithdrawalThatCannotBeWrittenAsANewFileIsWrittenInPlace) {
  testing::TempDir dir;
  std::string path = dir.file("telemetry.json");
  ASSERT_TRUE(save_config(path, consented_config()));
  FixedRandom random;
  ConsentState consent(path, consented_config(), KillSwitch{}, random);
  block_temporary_file(path);
  Status st = consent.replace(withdrawn_from(consented_config()));
  ASSERT_TRUE(st) << st.message();
  EXPECT_FALSE(consent.unsaved());
  // What a daemon started now reads.
  LoadedConfig restarted = load_config(path, kNow);
  EXPECT_EQ(restarted.config.answer, ipc::ConsentAnswer::kWithdrawn);
  EXPECT_FALSE(restarted.config.consent_given);
}

TEST(ConsentState, GivingConsentIsNeverWrittenInPlace) {
  testing::TempDir dir;
  std::string path = dir.file("telemetry.json");
  const TelemetryConfig withdrawn = withdrawn_from(consented_config());
  ASSERT_TRUE(save_config(path, withdrawn));
  FixedRandom random;
  ConsentState consent(path, withdrawn, KillSwitch{}, random);
  block_temporary_file(path);
  EXPECT_FALSE(consent.replace(consented_config()));
  EXPECT_FALSE(consent.config().consent_given) << "nothing changed";
  EXPECT_EQ(load_config(path, kNow).config.answer, ipc::ConsentAnswer::kWithdrawn);
}

TEST(ConsentState, AWithdrawalHeldUnsavedIsWrittenInPlaceByTheRetry) {
  testing::TempDir dir;
  std::string path = dir.file("telemetry.json");
  ASSERT_TRUE(save_config(path, consented_config()));
  FixedRandom random;
  ConsentState consent(path, consented_config(), KillSwitch{}, random);
  consent.replace_unsaved(withdrawn_from(consented_config()));
  block_temporary_file(path);
  Status st = consent.retry_save();
  ASSERT_TRUE(st) << st.message();
  EXPECT_FALSE(consent.unsaved());
  EXPECT_EQ(load_config(path, kNow).config.answer, ipc::ConsentAnswer::kWithdrawn);
}

}  // namespace
}  // namespace dollhouse::daemon
