// The Storage contract, run against every implementation: SQLite always, PostgreSQL when its
// server binaries are installed (a throwaway cluster is started for this test program).
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
  return {e.at("eventType").get<std::string>(), day, e.dump()};
}

IngestBatch make_batch(const std::string& batch_id, const std::string& install_id,
                       SystemTime received, std::vector<NewEvent> events,
                       std::size_t rejected = 0) {
  return {batch_id, install_id, received, std::move(events), rejected};
}

double at_key(const AggregateRows& rows, const std::string& metric, const std::string& dim) {
  auto it = rows.find({"2025-01-13", metric, dim});
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
  ASSERT_TRUE(
      storage_->add_aggregates({{{"2025-01-12", "m", "a"}, 1.5}, {{"2025-01-13", "m", "a"}, 2}})
          .is_ok());
  ASSERT_TRUE(storage_->add_aggregates({{{"2025-01-13", "m", "a"}, 3}}).is_ok());
  auto rows = storage_->aggregates("2025-01-13", "2025-01-31");
  ASSERT_TRUE(rows.is_ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->begin()->second, 5);
  rows = storage_->aggregates("2025-01-01", "2025-01-12");
  EXPECT_EQ(rows->begin()->second, 1.5);
  EXPECT_TRUE(storage_->ping().is_ok());
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

}  // namespace
}  // namespace dollhouse::server
