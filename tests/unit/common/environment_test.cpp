#include "common/environment.hpp"

#include <gtest/gtest.h>

#ifdef _WIN32
#include "common/win32.hpp"
#endif

#include <map>
#include <optional>
#include <string>

namespace dollhouse {
namespace {

using Vars = std::map<std::string, std::string>;

// ---- resolve_data_root -------------------------------------------------------------------------

TEST(ResolveDataRoot, FlagWinsOverEveryVariable) {
  auto root = resolve_data_root(std::string("/flag/root"),
                                map_env({{"DOLLHOUSE_HOME", "/env/root"}, {"HOME", "/home/u"}}));
  ASSERT_TRUE(root);
  EXPECT_EQ(*root, "/flag/root");
}

TEST(ResolveDataRoot, DollhouseHomeWinsOverHome) {
  auto root =
      resolve_data_root(std::nullopt, map_env({{"DOLLHOUSE_HOME", "/env/root"}, {"HOME", "/h"}}));
  ASSERT_TRUE(root);
  EXPECT_EQ(*root, "/env/root");
}

TEST(ResolveDataRoot, EmptyFlagFallsThroughToTheVariable) {
  auto root = resolve_data_root(std::string(), map_env({{"DOLLHOUSE_HOME", "/env/root"}}));
  ASSERT_TRUE(root);
  EXPECT_EQ(*root, "/env/root");
}

#ifndef _WIN32
TEST(ResolveDataRoot, DefaultsToDotDollhouseUnderHome) {
  auto root = resolve_data_root(std::nullopt, map_env({{"HOME", "/home/ada"}}));
  ASSERT_TRUE(root);
  EXPECT_EQ(*root, "/home/ada/.dollhouse");
}

TEST(ResolveDataRoot, EmptyDollhouseHomeFallsThroughToHome) {
  auto root = resolve_data_root(std::nullopt, map_env({{"DOLLHOUSE_HOME", ""}, {"HOME", "/h"}}));
  ASSERT_TRUE(root);
  EXPECT_EQ(*root, "/h/.dollhouse");
}

TEST(ResolveDataRoot, TrailingSlashOnHomeGivesNoDoubleSlash) {
  auto root = resolve_data_root(std::nullopt, map_env({{"HOME", "/home/ada/"}}));
  ASSERT_TRUE(root);
  EXPECT_EQ(*root, "/home/ada/.dollhouse");
}

TEST(ResolveDataRoot, WithoutHomeFallsBackToThePasswdEntry) {
  // No HOME in the map: the passwd entry of the current user decides. Either it has a home
  // directory (then the root is under it) or the call says how to fix it.
  auto root = resolve_data_root(std::nullopt, map_env({}));
  if (root) {
    EXPECT_EQ(root->substr(0, 1), "/");
    EXPECT_EQ(root->substr(root->size() - 11), "/.dollhouse");
    EXPECT_EQ(root->find("//"), std::string::npos);
  } else {
    EXPECT_EQ(root.status().code(), "no_home");
    EXPECT_NE(root.status().message().find("DOLLHOUSE_HOME"), std::string::npos);
  }
}

#else
TEST(ResolveDataRoot, DefaultsToDotDollhouseUnderTheProfile) {
  auto root = resolve_data_root(std::nullopt, map_env({{"USERPROFILE", "C:\\Users\\ada"}}));
  ASSERT_TRUE(root);
  EXPECT_EQ(*root, "C:\\Users\\ada\\.dollhouse");
}

TEST(ResolveDataRoot, TrailingBackslashOnTheProfileGivesNoDoubleSeparator) {
  auto root = resolve_data_root(std::nullopt, map_env({{"USERPROFILE", "C:\\Users\\ada\\"}}));
  ASSERT_TRUE(root);
  EXPECT_EQ(*root, "C:\\Users\\ada\\.dollhouse");
}

TEST(ResolveDataRoot, HomeIsNotUsedOnWindowsAndNoProfileSaysHowToFixIt) {
  auto root = resolve_data_root(std::nullopt, map_env({{"HOME", "/home/ada"}}));
  ASSERT_FALSE(root);
  EXPECT_NE(root.status().message().find("USERPROFILE"), std::string::npos);
  EXPECT_NE(root.status().message().find("DOLLHOUSE_HOME"), std::string::npos);
}

#endif

// ---- resolve_socket_path -----------------------------------------------------------------------

const Vars kAllSocketVars = {{"DOLLHOUSE_TELEMETRY_SOCKET", "/env/t.sock"},
                             {"XDG_RUNTIME_DIR", "/run/user/1000"}};

TEST(ResolveSocketPath, FlagWinsOverEverything) {
  EXPECT_EQ(resolve_socket_path(std::string("/flag.sock"), map_env(kAllSocketVars), "/root"),
            "/flag.sock");
}

TEST(ResolveSocketPath, VariableWinsOverXdgRuntimeDir) {
  EXPECT_EQ(resolve_socket_path(std::nullopt, map_env(kAllSocketVars), "/root"), "/env/t.sock");
}

#ifndef _WIN32
TEST(ResolveSocketPath, AbsoluteXdgRuntimeDirIsUsed) {
  EXPECT_EQ(
      resolve_socket_path(std::nullopt, map_env({{"XDG_RUNTIME_DIR", "/run/user/1000"}}), "/r"),
      "/run/user/1000/dollhouse/telemetry.sock");
}

TEST(ResolveSocketPath, RelativeXdgRuntimeDirIsIgnored) {
  EXPECT_EQ(resolve_socket_path(std::nullopt, map_env({{"XDG_RUNTIME_DIR", "run/user"}}),
                                "/home/ada/.dollhouse"),
            "/home/ada/.dollhouse/run/telemetry.sock");
}

TEST(ResolveSocketPath, EmptyValuesFallThroughToTheDataRoot) {
  EXPECT_EQ(resolve_socket_path(
                std::string(),
                map_env({{"DOLLHOUSE_TELEMETRY_SOCKET", ""}, {"XDG_RUNTIME_DIR", ""}}), "/root"),
            "/root/run/telemetry.sock");
}

#else
TEST(ResolveSocketPath, DefaultIsTheNamedPipeOfThisUsersSid) {
  auto sid = win32::current_user_sid();
  ASSERT_TRUE(sid) << sid.status().message();
  EXPECT_EQ(sid->rfind("S-1-", 0), 0u) << *sid;
  // XDG_RUNTIME_DIR means nothing on Windows.
  EXPECT_EQ(resolve_socket_path(std::nullopt, map_env({{"XDG_RUNTIME_DIR", "/run/user/1000"}}),
                                "C:\\Users\\ada\\.dollhouse"),
            "\\\\.\\pipe\\dollhouse-telemetry-" + *sid);
}

#endif

// ---- evaluate_kill_switches --------------------------------------------------------------------

TEST(KillSwitches, NothingSetMeansCollectionAllowed) {
  KillSwitch k = evaluate_kill_switches(map_env({}));
  EXPECT_FALSE(k.off);
  EXPECT_EQ(k.overridden_by, "");
}

class DoNotTrackOn : public ::testing::TestWithParam<std::string> {};

TEST_P(DoNotTrackOn, TurnsCollectionOff) {
  KillSwitch k = evaluate_kill_switches(map_env({{"DO_NOT_TRACK", GetParam()}}));
  EXPECT_TRUE(k.off);
  EXPECT_EQ(k.overridden_by, "DO_NOT_TRACK");
  EXPECT_FALSE(k.detail.empty());
}

INSTANTIATE_TEST_SUITE_P(AnyNonEmptyValueButZero, DoNotTrackOn,
                         ::testing::Values("1", "true", "yes", "TRUE", "anything"));

class DoNotTrackOff : public ::testing::TestWithParam<std::string> {};

TEST_P(DoNotTrackOff, LeavesCollectionOn) {
  KillSwitch k = evaluate_kill_switches(map_env({{"DO_NOT_TRACK", GetParam()}}));
  EXPECT_FALSE(k.off);
  EXPECT_EQ(k.overridden_by, "");
}

INSTANTIATE_TEST_SUITE_P(ZeroOrEmpty, DoNotTrackOff, ::testing::Values("0", ""));

class DollhouseTelemetryOff : public ::testing::TestWithParam<std::string> {};

TEST_P(DollhouseTelemetryOff, TurnsCollectionOffInAnyCase) {
  KillSwitch k = evaluate_kill_switches(map_env({{"DOLLHOUSE_TELEMETRY", GetParam()}}));
  EXPECT_TRUE(k.off);
  EXPECT_EQ(k.overridden_by, "DOLLHOUSE_TELEMETRY");
}

INSTANTIATE_TEST_SUITE_P(FalseZeroOffNo, DollhouseTelemetryOff,
                         ::testing::Values("false", "0", "off", "no", "FALSE", "Off", "No"));

TEST(KillSwitches, DollhouseTelemetryTrueAloneLeavesCollectionOn) {
  KillSwitch k = evaluate_kill_switches(map_env({{"DOLLHOUSE_TELEMETRY", "true"}}));
  EXPECT_FALSE(k.off);
}

TEST(KillSwitches, UnrecognisedDollhouseTelemetryValueIsNotAnOffSwitch) {
  KillSwitch k = evaluate_kill_switches(map_env({{"DOLLHOUSE_TELEMETRY", "maybe"}}));
  EXPECT_FALSE(k.off);
}

TEST(KillSwitches, DoNotTrackWinsOverDollhouseTelemetryOff) {
  KillSwitch k =
      evaluate_kill_switches(map_env({{"DO_NOT_TRACK", "1"}, {"DOLLHOUSE_TELEMETRY", "off"}}));
  EXPECT_TRUE(k.off);
  EXPECT_EQ(k.overridden_by, "DO_NOT_TRACK");
}

class CiDetected : public ::testing::TestWithParam<std::string> {};

TEST_P(CiDetected, TurnsCollectionOffAndNamesCi) {
  KillSwitch k = evaluate_kill_switches(map_env({{GetParam(), "true"}}));
  EXPECT_TRUE(k.off);
  EXPECT_EQ(k.overridden_by, "CI");
  EXPECT_NE(k.detail.find(GetParam()), std::string::npos) << k.detail;
  EXPECT_EQ(detect_ci(map_env({{GetParam(), "1"}})), GetParam());
}

INSTANTIATE_TEST_SUITE_P(KnownCiVariables, CiDetected,
                         ::testing::Values("CI", "GITHUB_ACTIONS", "GITLAB_CI", "BUILDKITE",
                                           "JENKINS_URL", "TF_BUILD", "CIRCLECI", "TRAVIS",
                                           "TEAMCITY_VERSION", "BITBUCKET_BUILD_NUMBER",
                                           "CODEBUILD_BUILD_ID", "DRONE", "APPVEYOR", "SEMAPHORE",
                                           "BUILD_BUILDID", "CONTINUOUS_INTEGRATION"));

class CiDisabledByValue : public ::testing::TestWithParam<std::string> {};

TEST_P(CiDisabledByValue, IsIgnored) {
  EXPECT_EQ(detect_ci(map_env({{"CI", GetParam()}})), "");
  EXPECT_FALSE(evaluate_kill_switches(map_env({{"CI", GetParam()}})).off);
}

INSTANTIATE_TEST_SUITE_P(FalseLikeOrEmpty, CiDisabledByValue,
                         ::testing::Values("false", "FALSE", "0", "no", "off", ""));

TEST(KillSwitches, CiFalseDoesNotHideAnotherCiVariable) {
  EXPECT_EQ(detect_ci(map_env({{"CI", "false"}, {"GITHUB_ACTIONS", "true"}})), "GITHUB_ACTIONS");
}

TEST(KillSwitches, UnrelatedVariablesAreNotCi) {
  EXPECT_EQ(detect_ci(map_env({{"HOME", "/h"}, {"PATH", "/bin"}, {"CI_LIKE", "1"}})), "");
}

TEST(KillSwitches, DollhouseTelemetryTrueOverridesCi) {
  for (const char* on : {"true", "1", "on", "yes", "TRUE"}) {
    KillSwitch k = evaluate_kill_switches(
        map_env({{"CI", "true"}, {"GITHUB_ACTIONS", "true"}, {"DOLLHOUSE_TELEMETRY", on}}));
    EXPECT_FALSE(k.off) << on;
    EXPECT_EQ(k.overridden_by, "") << on;
  }
}

TEST(KillSwitches, DollhouseTelemetryTrueDoesNotOverrideDoNotTrack) {
  KillSwitch k =
      evaluate_kill_switches(map_env({{"DO_NOT_TRACK", "1"}, {"DOLLHOUSE_TELEMETRY", "true"}}));
  EXPECT_TRUE(k.off);
  EXPECT_EQ(k.overridden_by, "DO_NOT_TRACK");
}

TEST(KillSwitches, DollhouseTelemetryOffIsNamedBeforeCi) {
  KillSwitch k = evaluate_kill_switches(map_env({{"CI", "1"}, {"DOLLHOUSE_TELEMETRY", "0"}}));
  EXPECT_TRUE(k.off);
  EXPECT_EQ(k.overridden_by, "DOLLHOUSE_TELEMETRY");
}

TEST(MapEnv, ReturnsNulloptForUnsetAndTheValueForSet) {
  EnvLookup env = map_env({{"A", "1"}, {"EMPTY", ""}});
  EXPECT_EQ(env("A"), std::optional<std::string>("1"));
  EXPECT_EQ(env("EMPTY"), std::optional<std::string>(""));
  EXPECT_EQ(env("B"), std::nullopt);
}

}  // namespace
}  // namespace dollhouse
