#include <gtest/gtest.h>

#include "tests/unit/daemon/commands/command_fixture.hpp"

namespace dollhouse::daemon::testing {
namespace {

using nlohmann::json;

// The rollups in progress, through the real export command.
json usage_in_progress(CommandFixture& f) {
  auto c = std::make_shared<RecordedConnection>();
  json reply = f.run(c, {{"op", "export"}});
  EXPECT_TRUE(reply.value("ok", false)) << reply.dump();
  return reply["export"]["usageInProgress"];
}

TEST(UsageCommand, FoldsIncrementsIntoThisWeeksRollupPerApp) {
  CommandFixture f;
  f.give_consent();
  auto mcp = f.hello_connection("dollhousemcp");
  auto demo = f.hello_connection("demo");
  ASSERT_EQ(f.run(mcp, {{"op", "usage"}, {"counters", {{"personasUsed", 2}}}})["accepted"], true);
  ASSERT_EQ(f.run(mcp, {{"op", "usage"}, {"counters", {{"personasUsed", 3}}}})["accepted"], true);
  ASSERT_EQ(f.run(demo, {{"op", "usage"}, {"counters", {{"skillsUsed", 1}}}})["accepted"], true);
  json usage = usage_in_progress(f);
  ASSERT_EQ(usage.size(), 2u) << usage.dump();
  std::string week = local_week_position(kMonday).week_start;
  for (const json& row : usage) {
    EXPECT_EQ(row["week"], week);
    if (row["app"] == "dollhousemcp") {
      EXPECT_EQ(row["totals"]["counters"]["personasUsed"], 5) << row.dump();
    } else {
      EXPECT_EQ(row["app"], "demo");
      EXPECT_EQ(row["totals"]["counters"]["skillsUsed"], 1) << row.dump();
    }
  }
}

TEST(UsageCommand, WithoutConsentNothingIsKept) {
  CommandFixture f;
  auto c = f.hello_connection();
  json reply = f.run(c, {{"op", "usage"}, {"counters", {{"personasUsed", 2}}}});
  EXPECT_EQ(reply["accepted"], false);
  EXPECT_EQ(reply["reason"], "no_consent");
  EXPECT_TRUE(usage_in_progress(f).empty());
}

TEST(UsageCommand, RefusesCountersThatAreNotIntegers) {
  CommandFixture f;
  f.give_consent();
  auto c = f.hello_connection();
  json reply = f.run(c, {{"op", "usage"}, {"counters", {{"personasUsed", "two"}}}});
  EXPECT_EQ(reply["error"]["code"], "invalid_event");
  EXPECT_EQ(reply["error"]["path"], "/counters/personasUsed");
  json timings = f.run(c, {{"op", "usage"}, {"timings", "fast"}});
  EXPECT_EQ(timings["error"]["path"], "/timings");
  EXPECT_EQ(c->dropped, 2);
  EXPECT_TRUE(usage_in_progress(f).empty());
}

}  // namespace
}  // namespace dollhouse::daemon::testing
