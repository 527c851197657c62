// The real daemon never refuses to start because of its own data: whatever is at the database's
// path, it keeps it aside, says so in its log and serves from a fresh database.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/daemon_harness.hpp"

namespace dollhouse::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

json crash_event() {
  return {{"eventType", "crash"},
          {"errorType", "runtime"},
          {"errorCategory", "ENOENT"},
          {"errorMessage", "failed once"},
          {"component", "PortfolioManager"},
          {"recovered", false}};
}

// The entries of `root` whose name starts with `prefix`.
std::vector<fs::path> entries_named(const std::string& root, const std::string& prefix) {
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (entry.path().filename().string().rfind(prefix, 0) == 0) found.push_back(entry.path());
  }
  return found;
}

TEST(DaemonDataRecovery, DirectoryAtTheDatabasePathIsKeptAsideAndAFreshDatabaseServes) {
  DaemonHarness h;
  ASSERT_EQ(::mkdir(h.root().c_str(), 0700), 0);
  const std::string db = h.root() + "/telemetry.db";
  ASSERT_EQ(::mkdir(db.c_str(), 0700), 0);
  { std::ofstream(db + "/left-here") << "not a database"; }

  ASSERT_TRUE(h.start()) << "exited with "
                         << h.process()->wait(std::chrono::seconds(30)).value_or(-1) << ": "
                         << h.process()->err();
  EXPECT_NE(h.process()->err().find("telemetry.db was damaged"), std::string::npos)
      << h.process()->err();
  const auto aside = entries_named(h.root(), "telemetry.db.corrupt-");
  ASSERT_EQ(aside.size(), 1u);
  EXPECT_TRUE(fs::is_directory(aside[0]));
  EXPECT_TRUE(fs::exists(aside[0] / "left-here")) << "what was there is kept whole";
  EXPECT_TRUE(fs::is_regular_file(db));

  ASSERT_TRUE(h.enable().value("ok", false));
  TestClient c = h.client();
  ASSERT_TRUE(c.hello().value("ok", false));
  EXPECT_TRUE(c.request({{"op", "track"}, {"event", crash_event()}})["accepted"].get<bool>());
  EXPECT_TRUE(c.request({{"op", "sync"}}).value("ok", false));
  EXPECT_EQ(h.entries().size(), 1u);
  // And the fresh database is the one a restart uses: nothing more is moved aside.
  ASSERT_EQ(h.stop(), 0);
  ASSERT_TRUE(h.start()) << h.process()->err();
  EXPECT_EQ(h.entries().size(), 1u);
  EXPECT_EQ(entries_named(h.root(), "telemetry.db.corrupt-").size(), 1u);
}

}  // namespace
}  // namespace dollhouse::testing
