// The daemon on a database that refuses writes (SQLITE_FULL from the VFS, as a full disk gives):
// what it confirms is exactly what is on disk, and the user's controls still answer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/faulty_sqlite_vfs.hpp"
#include "tests/unit/daemon/commands/command_fixture.hpp"

namespace dollhouse::daemon::testing {
namespace {

using ::dollhouse::testing::FaultySqliteVfs;
using nlohmann::json;

class FullDisk : public ::testing::Test {
 protected:
  FaultySqliteVfs& vfs_ = FaultySqliteVfs::install();
  CommandFixture f_;
  void TearDown() override { vfs_.fail_writes(false); }
};

TEST_F(FullDisk, SyncCountsOnlyTheEventsThatReachedTheDisk) {
  f_.give_consent();
  auto app = f_.hello_connection();
  vfs_.fail_writes(true);
  for (int i = 0; i < 5; ++i) f_.send(app, {{"op", "track"}, {"event", error_event()}});
  json full = f_.run(app, {{"op", "sync"}});
  ASSERT_TRUE(full["ok"].get<bool>()) << full.dump();
  EXPECT_EQ(full["accepted"], 0) << "nothing was stored";
  EXPECT_EQ(full["dropped"], 5);
  EXPECT_GT(vfs_.refused(), 0);

  vfs_.fail_writes(false);
  for (int i = 0; i < 3; ++i) f_.send(app, {{"op", "track"}, {"event", error_event()}});
  json after = f_.run(app, {{"op", "sync"}});
  EXPECT_EQ(after["accepted"], 3);
  EXPECT_EQ(after["dropped"], 5);
  EXPECT_EQ(f_.shown().size(), 3u) << "sync's count is what the database holds";
}

TEST_F(FullDisk, ATrackWithAnIdIsAnsweredWithTheStorageError) {
  f_.give_consent();
  auto app = f_.hello_connection();
  vfs_.fail_writes(true);
  json reply = f_.run(app, {{"op", "track"}, {"event", error_event()}});
  EXPECT_EQ(reply["error"]["code"], "storage_error") << reply.dump();
  EXPECT_EQ(app->accepted, 0);
  EXPECT_EQ(app->in_flight, 0);
}

TEST_F(FullDisk, UsageIsCountedOnlyWhenItsTotalsAreSaved) {
  f_.give_consent();
  auto app = f_.hello_connection();
  vfs_.fail_writes(true);
  f_.send(app, {{"op", "usage"}, {"counters", {{"personasUsed", 1}}}});
  json reply = f_.run(app, {{"op", "sync"}});
  EXPECT_EQ(reply["accepted"], 0);
  EXPECT_EQ(reply["dropped"], 1);
}

TEST_F(FullDisk, StatusShowAndExportStillAnswerAndSayWritesFail) {
  f_.give_consent();
  auto app = f_.hello_connection();
  f_.send(app, {{"op", "track"}, {"event", error_event()}});
  f_.run(app, {{"op", "sync"}});
  vfs_.fail_writes(true);
  f_.send(app, {{"op", "track"}, {"event", error_event()}});
  auto ctl = std::make_shared<RecordedConnection>();
  json status = f_.run(ctl, {{"op", "status"}});
  ASSERT_TRUE(status["ok"].get<bool>()) << status.dump();
  EXPECT_EQ(status["queue"]["pending"], 1);
  EXPECT_TRUE(status["queue"]["writeError"].is_string()) << status.dump();
  EXPECT_GE(status["queue"]["dropped"]["storage_error"].get<int>(), 1);
  EXPECT_EQ(f_.shown().size(), 1u);
  json exported = f_.run(ctl, {{"op", "export"}});
  EXPECT_TRUE(exported["ok"].get<bool>()) << exported.dump();

  vfs_.fail_writes(false);
  f_.send(app, {{"op", "track"}, {"event", error_event()}});
  f_.run(app, {{"op", "sync"}});
  json recovered = f_.run(ctl, {{"op", "status"}});
  EXPECT_TRUE(recovered["queue"]["writeError"].is_null()) << recovered.dump();
  EXPECT_EQ(recovered["queue"]["pending"], 2) << "service resumed by itself";
}

TEST_F(FullDisk, OneFailedWriteLosesOnlyTheEventsOfItsBatch) {
  f_.give_consent();
  auto app = f_.hello_connection();
  vfs_.fail_nth_write(1);
  f_.send(app, {{"op", "track"}, {"event", error_event()}});
  json first = f_.run(app, {{"op", "sync"}});
  EXPECT_EQ(first["dropped"], 1);
  f_.send(app, {{"op", "track"}, {"event", error_event()}});
  json second = f_.run(app, {{"op", "sync"}});
  EXPECT_EQ(second["accepted"], 1);
  EXPECT_EQ(f_.shown().size(), 1u);
}

TEST_F(FullDisk, WithdrawalHoldsAtOnceAndItsDeletionsFollowWhenWritesWork) {
  f_.give_consent();
  auto app = f_.hello_connection();
  f_.send(app, {{"op", "track"}, {"event", error_event()}});
  f_.run(app, {{"op", "sync"}});
  vfs_.fail_writes(true);
  auto ctl = std::make_shared<RecordedConnection>();
  json reply = f_.run(ctl, {{"op", "consent"}, {"enabled", false}});
  ASSERT_TRUE(reply["ok"].get<bool>()) << reply.dump();
  EXPECT_EQ(reply["purgePending"], true);
  EXPECT_TRUE(reply["warning"].is_string());
  EXPECT_EQ(reply["consent"]["blockedBy"], "no_consent") << "collection stopped at once";
  json refused = f_.run(app, {{"op", "track"}, {"event", error_event()}});
  EXPECT_EQ(refused["reason"], "no_consent");

  vfs_.fail_writes(false);
  f_.maintenance.run();
  f_.run(ctl, {{"op", "sync"}});
  EXPECT_TRUE(f_.shown().empty()) << "the queued event went once the disk took writes";
  json status = f_.run(ctl, {{"op", "status"}});
  EXPECT_EQ(status["queue"]["dropped"]["withdrawn"], 1) << status.dump();
}

TEST_F(FullDisk, WithdrawalHoldsWhenTelemetryJsonCannotBeWrittenAndIsSavedLater) {
  namespace fs = std::filesystem;
  f_.give_consent();
  // A non-empty directory where telemetry.json belongs: the atomic rename cannot replace it.
  fs::remove(f_.config_path);
  fs::create_directories(f_.config_path + "/in-the-way");
  auto ctl = std::make_shared<RecordedConnection>();
  json reply = f_.run(ctl, {{"op", "consent"}, {"enabled", false}});
  ASSERT_TRUE(reply["ok"].get<bool>()) << reply.dump();
  EXPECT_EQ(reply["saved"], false);
  EXPECT_TRUE(f_.consent.unsaved());
  EXPECT_EQ(reply["consent"]["enabled"], false);
  json give = f_.run(ctl, {{"op", "consent"}, {"enabled", true}});
  EXPECT_EQ(give["error"]["code"], "io_error") << "consent is given only once it is on disk";

  fs::remove_all(f_.config_path);
  f_.maintenance.run();
  EXPECT_FALSE(f_.consent.unsaved());
  std::ifstream in(f_.config_path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(json::parse(text.str())["consentGiven"], false);
}

TEST_F(FullDisk, DeleteLocalHoldsAtOnceAndReachesTheDiskWhenWritesWork) {
  f_.give_consent();
  auto app = f_.hello_connection();
  for (int i = 0; i < 3; ++i) f_.send(app, {{"op", "track"}, {"event", error_event()}});
  f_.send(app, {{"op", "usage"}, {"counters", {{"personasUsed", 2}}}});
  ASSERT_EQ(f_.run(app, {{"op", "sync"}})["accepted"], 4);
  vfs_.fail_writes(true);
  auto ctl = std::make_shared<RecordedConnection>();
  json reply = f_.run(ctl, {{"op", "delete"}, {"scope", "local"}});
  ASSERT_TRUE(reply.value("ok", false)) << reply.dump();
  EXPECT_EQ(reply["deleted"], 3);
  EXPECT_EQ(reply["persistPending"], true);
  EXPECT_TRUE(reply["warning"].is_string()) << reply.dump();
  EXPECT_EQ(ctl->in_flight, 0);

  // In effect at once: nothing it covers is shown, exported, counted or uploaded.
  EXPECT_TRUE(f_.shown().empty());
  json exported = f_.run(ctl, {{"op", "export"}});
  ASSERT_TRUE(exported.value("ok", false)) << exported.dump();
  EXPECT_TRUE(exported["export"]["events"].empty()) << exported.dump();
  EXPECT_TRUE(exported["export"]["usageInProgress"].empty()) << exported.dump();
  json status = f_.run(ctl, {{"op", "status"}});
  EXPECT_EQ(status["queue"]["pending"], 0) << status.dump();
  EXPECT_EQ(static_cast<int>(app->in_flight), 0);

  vfs_.fail_writes(false);
  f_.maintenance.run();
  f_.run(ctl, {{"op", "sync"}});
  auto raw = SqliteEventStore::open(f_.dir.file("telemetry.db"), 0);
  ASSERT_TRUE(raw) << raw.status().message();
  ASSERT_TRUE(raw->store->begin_read());
  EXPECT_TRUE(raw->store->all()->empty()) << "the deletion reached the disk";
  EXPECT_TRUE(raw->store->usage_weeks()->empty());
  raw->store->rollback();
}

TEST_F(FullDisk, StorageErrorCountsOnlyTheEventsTheDiskRefused) {
  f_.give_consent();
  auto app = f_.hello_connection();
  vfs_.fail_writes(true);
  constexpr int kEvents = 5;
  for (int i = 0; i < kEvents; ++i) {
    // An unknown field is dropped and counted: a counter-only write beside each event.
    json event = error_event();
    event["notInTheSchema"] = true;
    f_.send(app, {{"op", "track"}, {"event", event}});
  }
  ASSERT_EQ(f_.run(app, {{"op", "sync"}})["dropped"], kEvents);
  auto ctl = std::make_shared<RecordedConnection>();
  json withdrawal = f_.run(ctl, {{"op", "consent"}, {"enabled", false}});
  ASSERT_TRUE(withdrawal.value("ok", false)) << withdrawal.dump();
  json refused = f_.run(app, {{"op", "track"}, {"event", error_event()}});
  EXPECT_EQ(refused["reason"], "no_consent");
  f_.maintenance.run();
  json status = f_.run(ctl, {{"op", "status"}});
  EXPECT_EQ(status["queue"]["dropped"]["storage_error"], kEvents)
      << "neither the counters, the withdrawal's deletion nor maintenance are events: "
      << status["queue"]["dropped"].dump();
}

}  // namespace
}  // namespace dollhouse::daemon::testing
