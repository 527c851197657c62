// The Storage contract, run against every implementation: SQLite always, PostgreSQL when its
// server binaries are installed (a throwaway cluster is started for this test program).
#include <sqlite3.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <set>

#include <thread>

#include "server/aggregation/rollup.hpp"
#include "server/storage/storage.hpp"
#include "tests/integration/server_pg_cluster.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/server/fake_clock.hpp"
#include "tests/unit/server/server_samples.hpp"

namespace dollhouse::server {
namespace {

using namespace samples;
using namespace std::chrono_literals;

NewEvent new_event(const json& e, const std::string& day = "2025-01-13") {
  return {e.at("eventType").get<std::string>(),
          day,
          e.dump(),
          event_app(e),
          e.value("version", ""),
          crash_signature(e)};
}

IngestBatch make_batch(const std::string& batch_id, const std::string& install_id,
                       SystemTime received, std::vector<NewEvent> events,
                       std::size_t rejected = 0) {
  return {batch_id, install_id, received, std::move(events), rejected};
}

double at_key(const AggregateRows& rows, const std::string& metric, const std::string& dim) {
  auto it = rows.find({"2025-01-13", kSampleApp, metric, dim});
  return it == rows.end() ? 0.0 : it->second;
}

class StorageContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string database = dir_.file("server.db");
    if (GetParam() == "postgresql") {
      auto& cluster = testing::PostgresCluster::instance();
      if (!cluster.available()) GTEST_SKIP() << "PostgreSQL tests skipped: " << cluster.reason();
      database = cluster.uri();
    }
    auto opened = open_storage(database);
    ASSERT_TRUE(opened.is_ok()) << opened.status().message();
    storage_ = std::move(*opened);
    if (GetParam() == "postgresql") {
      ASSERT_TRUE(testing::PostgresCluster::instance().truncate_server_tables());
    }
    ASSERT_EQ(storage_->kind(), GetParam());
  }

  StorageCounts counts() {
    auto c = storage_->counts();
    EXPECT_TRUE(c.is_ok());
    return c.is_ok() ? *c : StorageCounts{};
  }

  testing::TempDir dir_;
  std::unique_ptr<Storage> storage_;
  const SystemTime t0_ = at("2025-01-13T10:00:00Z");
};

TEST_P(StorageContract, StoresABatchAndItsEvents) {
  auto r = storage_->ingest_batch(make_batch(
      uuid(100), uuid(1), t0_,
      {new_event(stamp(installation(), uuid(1))), new_event(stamp(crash(), uuid(1)))}, 1));
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_FALSE(r->duplicate);
  EXPECT_EQ(r->accepted, 2u);
  EXPECT_EQ(r->rejected, 1u);
  EXPECT_EQ(counts().raw_events, 2);
  auto raw = storage_->raw_events("2025-01-13", "2025-01-13");
  ASSERT_TRUE(raw.is_ok());
  EXPECT_EQ(raw->size(), 2u);
}

TEST_P(StorageContract, BodiesComeBackByteForByteWhateverCharactersTheyHold) {
  // Quotes, backslashes, braces, commas, escapes and non-ASCII text: PostgreSQL receives a
  // batch's bodies as one array parameter, so its quoting must hold for every one of them.
  json tricky = stamp(crash(), uuid(1));
  tricky["errorMessage"] = R"(a "quoted" \path\ {x,y} 'single' \u0041 NULL ünïcödé)";
  json empty_message = stamp(crash(), uuid(1));
  empty_message["errorMessage"] = "";
  std::vector<NewEvent> events = {new_event(tricky), new_event(empty_message),
                                  new_event(stamp(installation(), uuid(1)))};
  auto r = storage_->ingest_batch(make_batch(uuid(100), uuid(1), t0_, events));
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  auto raw = storage_->raw_events("2025-01-13", "2025-01-13");
  ASSERT_TRUE(raw.is_ok());
  std::multiset<std::string> stored, sent;
  for (const StoredEvent& e : *raw) stored.insert(e.body);
  for (const NewEvent& e : events) sent.insert(e.body);
  EXPECT_EQ(stored, sent);
}

TEST_P(StorageContract, ARepeatedBatchIsAcknowledgedWithTheFirstCountsAndNotStoredAgain) {
  auto batch = make_batch(uuid(100), uuid(1), t0_, {new_event(stamp(crash(), uuid(1)))}, 2);
  ASSERT_TRUE(storage_->ingest_batch(batch).is_ok());
  auto again = storage_->ingest_batch(batch);
  ASSERT_TRUE(again.is_ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->accepted, 1u);
  EXPECT_EQ(again->rejected, 2u);
  EXPECT_EQ(counts().raw_events, 1);
  EXPECT_EQ(counts().batches, 1);
}

TEST_P(StorageContract, RacingDeliveriesOfOneBatchStoreItOnce) {
  auto batch =
      make_batch(uuid(100), uuid(1), t0_,
                 {new_event(stamp(crash(), uuid(1))), new_event(stamp(update(true), uuid(1)))});
  std::atomic<int> stored{0}, duplicates{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto r = storage_->ingest_batch(batch);
      if (r.is_ok()) (r->duplicate ? duplicates : stored)++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(stored.load(), 1);
  EXPECT_EQ(duplicates.load(), 7);
  EXPECT_EQ(counts().raw_events, 2);
}

TEST_P(StorageContract, ManyBatchesAtOnceAreEachStoredOnceWithTheirOwnCounts) {
  // Batches arriving together may share a transaction (SQLite's group commit): each must still
  // be answered for itself, and a retry racing its first delivery must still be one batch.
  constexpr int kThreads = 8, kBatchesEach = 25;
  std::atomic<int> stored{0}, duplicates{0}, failed{0};
  std::atomic<long> accepted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatchesEach; ++b) {
        // Threads t and t + 1 deliver batch (t / 2, b) each: one stores it, one is a duplicate.
        const long id = 1000 + (t / 2) * kBatchesEach + b;
        std::vector<NewEvent> events;
        for (long e = 0; e <= id % 3; ++e) events.push_back(new_event(stamp(crash(), uuid(1))));
        auto r = storage_->ingest_batch(
            make_batch(uuid(id), uuid(1), t0_, events, static_cast<std::size_t>(id % 2)));
        if (!r.is_ok()) {
          failed++;
          continue;
        }
        (r->duplicate ? duplicates : stored)++;
        EXPECT_EQ(r->accepted, static_cast<std::size_t>(id % 3 + 1));
        EXPECT_EQ(r->rejected, static_cast<std::size_t>(id % 2));
        if (!r->duplicate) accepted += static_cast<long>(r->accepted);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(stored.load(), kThreads / 2 * kBatchesEach);
  EXPECT_EQ(duplicates.load(), kThreads / 2 * kBatchesEach);
  EXPECT_EQ(counts().batches, kThreads / 2 * kBatchesEach);
  EXPECT_EQ(counts().raw_events, accepted.load());
}

TEST_P(StorageContract, DeletionRemovesOnlyThatInstallationAndIsRecordedWithoutTheId) {
  ASSERT_TRUE(storage_
                  ->ingest_batch(make_batch(
                      uuid(100), uuid(1), t0_,
                      {new_event(stamp(crash(), uuid(1))), new_event(stamp(crash(), uuid(1)))}))
                  .is_ok());
  ASSERT_TRUE(
      storage_
          ->ingest_batch(make_batch(uuid(101), uuid(2), t0_, {new_event(stamp(crash(), uuid(2)))}))
          .is_ok());
  auto removed = storage_->delete_installation(uuid(1), t0_);
  ASSERT_TRUE(removed.is_ok());
  EXPECT_EQ(*removed, 2u);
  EXPECT_EQ(counts().raw_events, 1);
  auto again = storage_->delete_installation(uuid(1), t0_);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(*again, 0u);
  EXPECT_EQ(counts().deletions, 2);
}

TEST_P(StorageContract, RollupMovesOldRawEventsIntoAggregatesAndDeletesThem) {
  ASSERT_TRUE(storage_
                  ->ingest_batch(make_batch(uuid(100), uuid(1), t0_,
                                            {new_event(stamp(installation(), uuid(1)))}))
                  .is_ok());
  ASSERT_TRUE(storage_
                  ->ingest_batch(make_batch(uuid(101), uuid(2), t0_ + 2h,
                                            {new_event(stamp(installation(), uuid(2)))}))
                  .is_ok());
  RetentionPolicy policy;
  // One hour after the first batch: nothing is older than 24 h yet.
  auto r1 = run_aggregation(*storage_, t0_ + 1h, policy);
  ASSERT_TRUE(r1.is_ok()) << r1.status().message();
  EXPECT_EQ(r1->events_rolled_up, 0u);
  // 25 hours after: the first batch's event is rolled up, the second stays raw.
  auto r2 = run_aggregation(*storage_, t0_ + 25h, policy);
  ASSERT_TRUE(r2.is_ok());
  EXPECT_EQ(r2->events_rolled_up, 1u);
  EXPECT_EQ(counts().raw_events, 1);
  auto rows = storage_->aggregates("2025-01-13", "2025-01-13");
  ASSERT_TRUE(rows.is_ok());
  EXPECT_EQ(at_key(*rows, "installations", "total"), 1);
  // A second pass adds, never overwrites.
  auto r3 = run_aggregation(*storage_, t0_ + 27h, policy);
  ASSERT_TRUE(r3.is_ok());
  EXPECT_EQ(r3->events_rolled_up, 1u);
  rows = storage_->aggregates("2025-01-13", "2025-01-13");
  EXPECT_EQ(at_key(*rows, "installations", "total"), 2);
  EXPECT_EQ(counts().raw_events, 0);
}

TEST_P(StorageContract, RollupHandlesMoreEventsThanOneChunk) {
  std::vector<NewEvent> events(kRollupChunk + 7, new_event(stamp(error_event(), uuid(1))));
  ASSERT_TRUE(storage_->ingest_batch(make_batch(uuid(100), uuid(1), t0_, events)).is_ok());
  auto r = run_aggregation(*storage_, t0_ + 25h, RetentionPolicy{});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->events_rolled_up, kRollupChunk + 7);
  auto rows = storage_->aggregates("2025-01-13", "2025-01-13");
  EXPECT_EQ(at_key(*rows, "errors.kind", "error"), double(kRollupChunk + 7));
}

TEST_P(StorageContract, BatchIdsAreForgottenAfterTheirRetention) {
  ASSERT_TRUE(storage_->ingest_batch(make_batch(uuid(100), uuid(1), t0_, {})).is_ok());
  RetentionPolicy policy;
  ASSERT_TRUE(run_aggregation(*storage_, t0_ + 24h * 29, policy).is_ok());
  EXPECT_EQ(counts().batches, 1);
  auto r = run_aggregation(*storage_, t0_ + 24h * 31, policy);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->batches_purged, 1u);
  EXPECT_EQ(counts().batches, 0);
}

TEST_P(StorageContract, AggregatesAreAddedAndReadByDayRange) {
  ASSERT_TRUE(storage_
                  ->add_aggregates(
                      {{{"2025-01-12", "x", "m", "a"}, 1.5}, {{"2025-01-13", "x", "m", "a"}, 2}})
                  .is_ok());
  ASSERT_TRUE(storage_->add_aggregates({{{"2025-01-13", "x", "m", "a"}, 3}}).is_ok());
  auto rows = storage_->aggregates("2025-01-13", "2025-01-31");
  ASSERT_TRUE(rows.is_ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->begin()->second, 5);
  rows = storage_->aggregates("2025-01-01", "2025-01-12");
  EXPECT_EQ(rows->begin()->second, 1.5);
  EXPECT_TRUE(storage_->ping().is_ok());
}

// The row of `rows` for (day, app, version), or an empty one.
ActivityRow activity_of(const DayActivity& a, const std::string& app, const std::string& version,
                        const std::string& day = "2025-01-13") {
  for (const ActivityRow& r : a.activity) {
    if (r.day == day && r.app == app && r.version == version) return r;
  }
  return {};
}

TEST_P(StorageContract, DistinctInstallationsAreCountedPerDayAppAndVersion) {
  // Installation 1 runs two apps; installation 2 crashes twice; installation 3 on 1.1.
  auto ev = [](const json& e, long install, const std::string& version, const std::string& app) {
    return new_event(stamp(e, uuid(install), "linux", version, "2025-01-13T09:30:00Z", app));
  };
  ASSERT_TRUE(storage_
                  ->ingest_batch(make_batch(
                      uuid(100), uuid(1), t0_,
                      {ev(installation(), 1, "1.0", "a"), ev(error_event(), 1, "1.0", "a"),
                       ev(error_event(), 1, "2.0", "b")}))
                  .is_ok());
  ASSERT_TRUE(
      storage_
          ->ingest_batch(make_batch(uuid(101), uuid(2), t0_,
                                    {ev(crash(), 2, "1.0", "a"), ev(crash(), 2, "1.0", "a")}))
          .is_ok());
  ASSERT_TRUE(
      storage_
          ->ingest_batch(make_batch(uuid(102), uuid(3), t0_, {ev(crash("B", "C"), 3, "1.1", "a")}))
          .is_ok());
  auto open = storage_->open_activity("2025-01-13", "2025-01-13");
  ASSERT_TRUE(open.is_ok()) << open.status().message();
  EXPECT_EQ(activity_of(*open, "a", "").active, 3);
  EXPECT_EQ(activity_of(*open, "a", "").crashed, 2);
  EXPECT_EQ(activity_of(*open, "a", "1.0").active, 2);
  EXPECT_EQ(activity_of(*open, "a", "1.0").crashed, 1);
  EXPECT_EQ(activity_of(*open, "a", "1.1").crashed, 1);
  EXPECT_EQ(activity_of(*open, "b", "").active, 1);
  EXPECT_EQ(activity_of(*open, "b", "").crashed, 0);
  EXPECT_EQ(activity_of(*open, kAllApps, "").active, 3);  // installation 1 counts once
  EXPECT_EQ(activity_of(*open, kAllApps, "").crashed, 2);
  std::map<std::pair<std::string, std::string>, std::pair<std::int64_t, std::int64_t>> sigs;
  for (const SignatureRow& r : open->signatures) {
    sigs[{r.app + ":" + r.kind, r.signature}] = {r.events, r.installs};
  }
  const auto module = crash_signature(crash()), other = crash_signature(crash("B", "C"));
  EXPECT_EQ(sigs[std::make_pair(std::string("a:crash"), module)], std::make_pair(2L, 1L));
  EXPECT_EQ(sigs[std::make_pair(std::string("a:crash"), other)], std::make_pair(1L, 1L));
  EXPECT_EQ(sigs[std::make_pair(std::string("a:error"), crash_signature(error_event()))],
            std::make_pair(1L, 1L));
  EXPECT_EQ(sigs.size(), 4u);  // plus b's error
  // Another day's range sees none of it.
  auto elsewhere = storage_->open_activity("2025-01-14", "2025-01-31");
  ASSERT_TRUE(elsewhere.is_ok());
  EXPECT_TRUE(elsewhere->activity.empty());
  EXPECT_TRUE(elsewhere->signatures.empty());
}

TEST_P(StorageContract, ADayIsClosedOnceAndItsDistinctCountsNeverChange) {
  for (long i = 1; i <= 3; ++i) {
    ASSERT_TRUE(storage_
                    ->ingest_batch(make_batch(uuid(100 + i), uuid(i), t0_ + 1h * i,
                                              {new_event(stamp(crash(), uuid(i)))}))
                    .is_ok());
  }
  RetentionPolicy policy;
  policy.min_installations = 3;
  // 25 h after the first batch: the day closes (all three installations, also the two whose
  // events are not due yet); only the first event is rolled up.
  auto r1 = run_aggregation(*storage_, t0_ + 25h + 30min, policy);
  ASSERT_TRUE(r1.is_ok()) << r1.status().message();
  EXPECT_EQ(r1->days_closed, 1u);
  EXPECT_EQ(r1->events_rolled_up, 1u);
  auto open = storage_->open_activity("2025-01-13", "2025-01-13");
  ASSERT_TRUE(open.is_ok());
  EXPECT_TRUE(open->activity.empty());
  EXPECT_TRUE(open->signatures.empty());
  auto rows = storage_->aggregates("2025-01-13", "2025-01-13");
  ASSERT_TRUE(rows.is_ok());
  EXPECT_EQ(at_key(*rows, "activity.active", "total"), 3);
  EXPECT_EQ(at_key(*rows, "activity.crashed", "total"), 3);
  EXPECT_EQ(at_key(*rows, "activity.crashed.version", "1.9.16"), 3);
  EXPECT_EQ(at_key(*rows, "signatures.crash.installs", crash_signature(crash())), 3);
  EXPECT_EQ(at_key(*rows, "signatures.crash", crash_signature(crash())), 3);
  EXPECT_EQ(at_key(*rows, "errors.kind", "crash"), 1);
  EXPECT_EQ(rows->count({"2025-01-13", kAllApps, "activity.active", "total"}), 1u);

  // A late event of the closed day: counted as an event, not as a fourth installation.
  ASSERT_TRUE(storage_
                  ->ingest_batch(make_batch(uuid(200), uuid(4), t0_ + 26h,
                                            {new_event(stamp(crash(), uuid(4)))}))
                  .is_ok());
  auto r2 = run_aggregation(*storage_, t0_ + 60h, policy);
  ASSERT_TRUE(r2.is_ok());
  EXPECT_EQ(r2->days_closed, 0u);
  EXPECT_EQ(r2->events_rolled_up, 3u);
  EXPECT_EQ(counts().raw_events, 0);
  rows = storage_->aggregates("2025-01-13", "2025-01-13");
  EXPECT_EQ(at_key(*rows, "activity.active", "total"), 3);
  EXPECT_EQ(at_key(*rows, "signatures.crash", crash_signature(crash())), 3);
  EXPECT_EQ(at_key(*rows, "errors.kind", "crash"), 4);
}

TEST_P(StorageContract, ARangeIsReadAtOneMomentAsTheThreeReadsWouldGiveIt) {
  for (long i = 1; i <= 2; ++i) {
    ASSERT_TRUE(storage_
                    ->ingest_batch(make_batch(
                        uuid(100 + i), uuid(i), t0_ + 30h * (i - 1),
                        {new_event(stamp(crash(), uuid(i)), i == 1 ? "2025-01-13" : "2025-01-14")}))
                    .is_ok());
  }
  ASSERT_TRUE(run_aggregation(*storage_, t0_ + 25h, RetentionPolicy{}).is_ok());
  auto snap = storage_->read_range("2025-01-01", "2025-01-31");
  ASSERT_TRUE(snap.is_ok()) << snap.status().message();
  auto rows = storage_->aggregates("2025-01-01", "2025-01-31");
  auto raw = storage_->raw_events("2025-01-01", "2025-01-31");
  auto open = storage_->open_activity("2025-01-01", "2025-01-31");
  ASSERT_TRUE(rows.is_ok() && raw.is_ok() && open.is_ok());
  EXPECT_EQ(snap->aggregates, *rows);
  EXPECT_FALSE(snap->aggregates.empty());  // the closed 13th
  ASSERT_EQ(snap->raw_events.size(), 1u);  // the 14th's crash, not due yet
  EXPECT_EQ(snap->raw_events[0].day, "2025-01-14");
  ASSERT_EQ(snap->open_activity.activity.size(), open->activity.size());
  EXPECT_EQ(activity_of(snap->open_activity, kAllApps, "", "2025-01-14").crashed, 1);
  EXPECT_EQ(activity_of(snap->open_activity, kAllApps, "", "2025-01-13").active, 0);
}

TEST_P(StorageContract, SignaturesFewerInstallationsReportedAreFoldedAtClose) {
  // Two installations report a rare crash: below k = 3 its text is never stored.
  for (long i = 1; i <= 2; ++i) {
    ASSERT_TRUE(storage_
                    ->ingest_batch(make_batch(uuid(100 + i), uuid(i), t0_,
                                              {new_event(stamp(crash("RARE", "Only"), uuid(i)))}))
                    .is_ok());
  }
  RetentionPolicy policy;
  policy.min_installations = 3;
  ASSERT_TRUE(run_aggregation(*storage_, t0_ + 25h, policy).is_ok());
  auto rows = storage_->aggregates("2025-01-13", "2025-01-13");
  ASSERT_TRUE(rows.is_ok());
  EXPECT_EQ(at_key(*rows, "signatures.crash", kOtherSignatures), 2);
  for (const auto& [key, value] : *rows) {
    EXPECT_EQ(key.dim.find("Cannot find module"), std::string::npos) << key.metric;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, StorageContract, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& param_info) { return param_info.param; });

// ---- SQLite specifics ---------------------------------------------------------------------------

// Sets the process umask for one test and puts the old one back.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t old_;
};

int mode_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

TEST(SqliteStorage, ANewDatabaseAndItsWalAndShmFilesAreUserOnlyUnderAPermissiveUmask) {
  testing::TempDir dir;
  const std::string path = dir.file("server.db");
  ScopedUmask permissive(022);
  auto opened = open_storage(path);
  ASSERT_TRUE(opened.is_ok()) << opened.status().message();
  auto r = (*opened)->ingest_batch(make_batch(uuid(100), uuid(1), at("2025-01-13T10:00:00Z"),
                                              {new_event(stamp(crash(), uuid(1)))}));
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(mode_of(path), 0600);
  EXPECT_EQ(mode_of(path + "-wal"), 0600);
  EXPECT_EQ(mode_of(path + "-shm"), 0600);
}

TEST(SqliteStorage, AnExistingDatabaseFileKeepsItsMode) {
  testing::TempDir dir;
  const std::string path = dir.file("server.db");
  {
    auto first = open_storage(path);
    ASSERT_TRUE(first.is_ok()) << first.status().message();
  }
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  auto opened = open_storage(path);
  ASSERT_TRUE(opened.is_ok()) << opened.status().message();
  EXPECT_TRUE((*opened)->ping().is_ok());
  EXPECT_EQ(mode_of(path), 0640);
}

TEST(SqliteStorage, ADatabaseOfTheFormerSchemaIsMigratedKeepingEveryCounterAndRawEvent) {
  testing::TempDir dir;
  const std::string path = dir.file("server.db");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    const char* former =
        "CREATE TABLE raw_events(id INTEGER PRIMARY KEY, install_id TEXT NOT NULL, "
        "event_type TEXT NOT NULL, day TEXT NOT NULL, received_at INTEGER NOT NULL, "
        "body TEXT NOT NULL);"
        "CREATE TABLE batches(batch_id TEXT PRIMARY KEY, received_at INTEGER NOT NULL, "
        "accepted INTEGER NOT NULL, rejected INTEGER NOT NULL);"
        "CREATE TABLE daily_aggregates(day TEXT NOT NULL, metric TEXT NOT NULL, "
        "dim TEXT NOT NULL, value REAL NOT NULL, PRIMARY KEY(day, metric, dim));"
        "CREATE TABLE deletions(id INTEGER PRIMARY KEY, deleted_at INTEGER NOT NULL, "
        "events_removed INTEGER NOT NULL);"
        "INSERT INTO daily_aggregates VALUES('2025-01-10', 'installations', 'total', 7);"
        "INSERT INTO raw_events(install_id, event_type, day, received_at, body) VALUES("
        "'00000000-0000-4000-8000-000000000001', 'installation', '2025-01-13', 1736762400, "
        "'{\"eventType\":\"installation\",\"installMethod\":\"npm\",\"installType\":\"new\"}');";
    ASSERT_EQ(sqlite3_exec(db, former, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto opened = open_storage(path);
  ASSERT_TRUE(opened.is_ok()) << opened.status().message();
  auto rows = (*opened)->aggregates("2025-01-01", "2025-01-31");
  ASSERT_TRUE(rows.is_ok());
  EXPECT_EQ(rows->at({"2025-01-10", "", "installations", "total"}), 7);
  auto c = (*opened)->counts();
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->raw_events, 1);
  // The migrated raw event is rolled up like any other, under the app "".
  auto r = run_aggregation(**opened, at("2025-01-14T12:00:00Z"), RetentionPolicy{});
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->events_rolled_up, 1u);
  rows = (*opened)->aggregates("2025-01-13", "2025-01-13");
  EXPECT_EQ(rows->at({"2025-01-13", "", "installations", "total"}), 1);
  EXPECT_EQ(rows->at({"2025-01-13", kAllApps, "activity.active", "total"}), 1);
  EXPECT_EQ(rows->at({"2025-01-13", "", "activity.active", "total"}), 1);
  EXPECT_EQ(rows->count({"2025-01-13", "", "activity.active.version", ""}), 0u);
  // Opening it again changes nothing.
  opened->reset();
  auto again = open_storage(path);
  ASSERT_TRUE(again.is_ok()) << again.status().message();
  EXPECT_EQ((*again)->aggregates("2025-01-10", "2025-01-10")->size(), 1u);
}

}  // namespace
}  // namespace dollhouse::server
