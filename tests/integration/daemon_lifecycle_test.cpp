// The daemon as a process: one per data root, stale sockets, permissions, clean stop,
// durability across kill -9, and recovery from its own damaged files.
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include "tests/support/daemon_harness.hpp"

namespace dollhouse::testing {
namespace {

using nlohmann::json;

json crash_event(int n) {
  return {{"eventType", "crash"},
          {"errorType", "runtime"},
          {"errorCategory", "ENOENT"},
          {"errorMessage", "failed " + std::to_string(n)},
          {"component", "PortfolioManager"},
          {"recovered", false}};
}

TEST(DaemonLifecycle, SecondInstanceForTheSameRootExitsOneWithAClearMessage) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  RunResult second = run_process({build_bin("dollhouse-telemetryd"), "--home", h.root(), "--socket",
                                  h.dir().file("other.sock")},
                                 h.env());
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("already running"), std::string::npos) << second.err;
  // The first one still serves.
  EXPECT_TRUE(h.status().value("ok", false));
}

TEST(DaemonLifecycle, SecondInstanceOnTheSameSocketExitsOne) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  RunResult second = run_process(
      {build_bin("dollhouse-telemetryd"), "--home", h.dir().file("root2"), "--socket", h.socket()},
      h.env());
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("already listening"), std::string::npos) << second.err;
}

TEST(DaemonLifecycle, StaleSocketOfAKilledDaemonIsReplaced) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  h.kill9();
  struct stat st {};
  ASSERT_EQ(::stat(h.socket().c_str(), &st), 0) << "kill -9 leaves the socket file behind";
  ASSERT_TRUE(h.start()) << h.process()->err();
  EXPECT_TRUE(h.status().value("ok", false));
}

TEST(DaemonLifecycle, SocketIsUserOnlyInsideAUserOnlyDirectory) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  struct stat sock {
  }, dir{};
  ASSERT_EQ(::stat(h.socket().c_str(), &sock), 0);
  ASSERT_EQ(::stat(h.dir().file("run").c_str(), &dir), 0);
  EXPECT_TRUE(S_ISSOCK(sock.st_mode));
  EXPECT_EQ(sock.st_mode & 0777, 0600u);
  EXPECT_EQ(dir.st_mode & 0777, 0700u);
  struct stat root {
  }, db{}, log{};
  ASSERT_EQ(::stat(h.root().c_str(), &root), 0);
  EXPECT_EQ(root.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((h.root() + "/telemetry.db").c_str(), &db), 0);
  EXPECT_EQ(db.st_mode & 0077, 0u);
  ASSERT_EQ(::stat((h.root() + "/logs/telemetryd.log").c_str(), &log), 0);
  EXPECT_EQ(log.st_mode & 0077, 0u);
}

int mode_of(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

// `path` created for the test with exactly `mode`, whatever the umask.
void make_dir(const std::string& path, mode_t mode) {
  ASSERT_EQ(::mkdir(path.c_str(), 0700), 0) << path;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0) << path;
}

TEST(DaemonLifecycle, ExistingDataRootAndStickySharedSocketDirectoryAreUsedUnchanged) {
  DaemonHarness h;
  make_dir(h.root(), 0755);
  make_dir(h.dir().file("run"), 01777);  // like /tmp
  ASSERT_TRUE(h.start()) << h.process()->err();
  EXPECT_TRUE(h.status().value("ok", false));
  EXPECT_EQ(mode_of(h.root()), 0755);
  EXPECT_EQ(mode_of(h.dir().file("run")), 01777);
  EXPECT_EQ(mode_of(h.socket()), 0600);
  EXPECT_EQ(mode_of(h.root() + "/logs"), 0700) << "what the daemon creates is user-only";
  EXPECT_EQ(mode_of(h.root() + "/telemetry.db") & 0077, 0);
}

TEST(DaemonLifecycle, SocketDirectoryOthersCanWriteWithoutTheStickyBitIsRefusedUnchanged) {
  DaemonHarness h;
  make_dir(h.dir().file("run"), 0777);
  EXPECT_FALSE(h.start());
  EXPECT_EQ(h.process()->wait(std::chrono::seconds(30)), 1);
  const std::string err = h.process()->err();
  EXPECT_NE(err.find(h.dir().file("run") + " is writable by other users (mode 0777)"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("chmod go-w"), std::string::npos) << err;
  EXPECT_EQ(mode_of(h.dir().file("run")), 0777);
  EXPECT_EQ(::access(h.socket().c_str(), F_OK), -1);
}

TEST(DaemonLifecycle, DataRootOthersCanWriteIsRefusedUnchanged) {
  for (mode_t mode : {0775, 01777}) {
    DaemonHarness h;
    make_dir(h.root(), mode);
    EXPECT_FALSE(h.start());
    EXPECT_EQ(h.process()->wait(std::chrono::seconds(30)), 1) << std::oct << mode;
    const std::string err = h.process()->err();
    EXPECT_NE(err.find(h.root() + " is writable by other users"), std::string::npos) << err;
    EXPECT_EQ(mode_of(h.root()), static_cast<int>(mode));
    EXPECT_FALSE(std::filesystem::exists(h.root() + "/telemetry.db")) << "nothing was created";
  }
}

TEST(DaemonLifecycle, DirectoriesOfAnotherUserAreRefusedUnchanged) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory to another user";
  constexpr uid_t kNobody = 65534;
  {
    DaemonHarness h;
    make_dir(h.root(), 0755);
    ASSERT_EQ(::chown(h.root().c_str(), kNobody, kNobody), 0);
    EXPECT_FALSE(h.start());
    EXPECT_EQ(h.process()->wait(std::chrono::seconds(30)), 1);
    EXPECT_NE(h.process()->err().find("belongs to another user"), std::string::npos)
        << h.process()->err();
    EXPECT_EQ(mode_of(h.root()), 0755);
  }
  {
    DaemonHarness h;
    make_dir(h.dir().file("run"), 01777);
    ASSERT_EQ(::chown(h.dir().file("run").c_str(), kNobody, kNobody), 0);
    EXPECT_FALSE(h.start());
    EXPECT_EQ(h.process()->wait(std::chrono::seconds(30)), 1);
    EXPECT_NE(h.process()->err().find("of another user"), std::string::npos) << h.process()->err();
    EXPECT_EQ(mode_of(h.dir().file("run")), 01777);
  }
}

TEST(DaemonLifecycle, SigtermCommitsEverythingAcceptedAndExitsZero) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.enable().value("ok", false));
  {
    TestClient c = h.client();
    ASSERT_TRUE(c.hello().value("ok", false));
    for (int i = 0; i < 200; ++i) ASSERT_TRUE(c.send({{"op", "track"}, {"event", crash_event(i)}}));
    // A reply to a later request proves the daemon read every line before it.
    ASSERT_TRUE(
        c.request({{"op", "hello"}, {"app", "itest"}, {"appVersion", "1.2.3"}}).value("ok", false));
    auto code = h.stop();
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 0) << h.process()->err();
  }
  EXPECT_EQ(::access(h.socket().c_str(), F_OK), -1) << "socket removed on a clean stop";
  ASSERT_TRUE(h.start());
  EXPECT_EQ(h.entries().size(), 200u);
}

TEST(DaemonLifecycle, EverySyncedEventSurvivesKillNine) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.enable().value("ok", false));
  TestClient c = h.client();
  ASSERT_TRUE(c.hello().value("ok", false));
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(c.send({{"op", "track"}, {"event", crash_event(i)}}));
  json sync = c.request({{"op", "sync"}});
  ASSERT_TRUE(sync.value("ok", false)) << sync.dump();
  EXPECT_EQ(sync["accepted"], 300);
  EXPECT_EQ(sync["dropped"], 0);
  h.kill9();
  ASSERT_TRUE(h.start());
  json entries = h.entries();
  ASSERT_EQ(entries.size(), 300u);
  std::set<std::string> messages;
  for (const auto& e : entries) messages.insert(e["data"]["errorMessage"].get<std::string>());
  EXPECT_EQ(messages.size(), 300u) << "every event once, none twice";
}

TEST(DaemonLifecycle, CorruptConfigIsMovedAsideAndMeansNoConsent) {
  DaemonHarness h;
  ::mkdir(h.root().c_str(), 0700);
  { std::ofstream(h.root() + "/telemetry.json") << "{\"consentGiven\": true, \"enabled\": tru"; }
  ASSERT_TRUE(h.start());
  json status = h.status();
  EXPECT_FALSE(status["enabled"].get<bool>());
  EXPECT_EQ(status["blockedBy"], "no_consent");
  EXPECT_NE(h.process()->err().find("telemetry.json was damaged"), std::string::npos);
  bool kept = false;
  for (const auto& entry : std::filesystem::directory_iterator(h.root())) {
    if (entry.path().filename().string().rfind("telemetry.json.corrupt-", 0) == 0) kept = true;
  }
  EXPECT_TRUE(kept);
}

TEST(DaemonLifecycle, CorruptDatabaseIsMovedAsideAndAFreshOneServes) {
  DaemonHarness h;
  ::mkdir(h.root().c_str(), 0700);
  {
    std::ofstream db(h.root() + "/telemetry.db", std::ios::binary);
    for (int i = 0; i < 4096; ++i) db.put(static_cast<char>((i * 7919) & 0xff));
  }
  ASSERT_TRUE(h.start()) << h.process()->err();
  EXPECT_NE(h.process()->err().find("telemetry.db was damaged"), std::string::npos);
  ASSERT_TRUE(h.enable().value("ok", false));
  TestClient c = h.client();
  ASSERT_TRUE(c.hello().value("ok", false));
  EXPECT_TRUE(c.request({{"op", "track"}, {"event", crash_event(1)}})["accepted"].get<bool>());
  EXPECT_TRUE(c.request({{"op", "sync"}}).value("ok", false));
  EXPECT_EQ(h.entries().size(), 1u);
}

TEST(DaemonLifecycle, LogHoldsNoEventContent) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.enable().value("ok", false));
  TestClient c = h.client();
  ASSERT_TRUE(c.hello().value("ok", false));
  json e = crash_event(0);
  e["errorMessage"] = "UniqueMarker42 happened";
  e["component"] = "UniqueComponent42";
  EXPECT_TRUE(c.request({{"op", "track"}, {"event", e}}).value("ok", false));
  c.send_raw("{\"v\":1,\"op\":\"track\",\"event\":{\"errorMessage\":\"UniqueMarker43\"\n");
  EXPECT_TRUE(c.request({{"op", "sync"}}).value("ok", false));
  ASSERT_EQ(h.stop(), 0);
  std::ifstream log(h.root() + "/logs/telemetryd.log");
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(text.find("UniqueMarker"), std::string::npos);
  EXPECT_EQ(text.find("UniqueComponent"), std::string::npos);
  EXPECT_EQ(h.process()->err().find("UniqueMarker"), std::string::npos);
}

}  // namespace
}  // namespace dollhouse::testing
