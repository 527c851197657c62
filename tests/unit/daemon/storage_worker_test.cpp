#include "daemon/storage/storage_worker.hpp"

#include <sqlite3.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/storage/sqlite_event_store.hpp"
#include "tests/support/fake_clock.hpp"
#include "tests/support/temp_dir.hpp"

namespace dollhouse::daemon {
namespace {

constexpr auto kDeadline = std::chrono::seconds(20);
constexpr std::int64_t kNowMs = 1'795'959'846'123LL;
const StorageLimits kRoomy{1'000'000, 1'000'000'000, 1024};

using ::dollhouse::testing::FakeClock;

class StorageWorkerTest : public ::testing::Test {
 protected:
  std::string path() const { return dir_.file("telemetry.db"); }

  std::unique_ptr<SqliteEventStore> open_store() {
    auto opened = SqliteEventStore::open(path(), kNowMs);
    if (!opened) {
      ADD_FAILURE() << opened.status().message();
      return nullptr;
    }
    return std::move(opened->store);
  }

  std::unique_ptr<StorageWorker> start_worker(StorageLimits limits = kRoomy) {
    auto worker = std::make_unique<StorageWorker>(open_store(), clock_, limits);
    Status st = worker->start();
    EXPECT_TRUE(st) << st.message();
    return worker;
  }

  // Holds the worker in a task of its own until the returned promise is set: the tasks posted
  // meanwhile wait, and then run as one batch.
  static std::promise<void> hold(StorageWorker& worker) {
    auto started = std::make_shared<std::promise<void>>();
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    worker.post([started, released](StorageContext&) {
      started->set_value();
      released.wait();
    });
    EXPECT_EQ(started->get_future().wait_for(kDeadline), std::future_status::ready);
    return release;
  }

  // What a fresh connection to the file sees: only what was committed.
  std::vector<StoredEvent> durable_events() {
    auto store = open_store();
    if (!store) return {};
    auto all = store->all();
    EXPECT_TRUE(all);
    return all ? *all : std::vector<StoredEvent>{};
  }
  std::map<std::string, std::int64_t> durable_counters() {
    auto store = open_store();
    if (!store) return {};
    auto counters = store->load_counters();
    EXPECT_TRUE(counters);
    return counters ? *counters : std::map<std::string, std::int64_t>{};
  }

  // Makes every write of a counter fail inside SQLite, so the batch that saves counters
  // cannot commit, as with a full disk. Call only while the worker is between batches.
  void break_counter_writes(bool broken) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path().c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    const char* sql = broken ? "CREATE TRIGGER fail_counters BEFORE INSERT ON counters "
                               "BEGIN SELECT RAISE(ABORT, 'disk full'); END;"
                             : "DROP TRIGGER fail_counters;";
    char* msg = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &msg), SQLITE_OK) << (msg ? msg : "");
    sqlite3_free(msg);
    sqlite3_close(db);
  }

  static StorageWorker::Task append_task(std::int64_t created_ms, std::string body) {
    return [created_ms, body = std::move(body)](StorageContext& ctx) {
      Status st = ctx.store.append(created_ms, "error", "app", body);
      EXPECT_TRUE(st) << st.message();
      ctx.appended = true;
    };
  }

  dollhouse::testing::TempDir dir_;
  FakeClock clock_{from_unix_millis(kNowMs)};
};

TEST_F(StorageWorkerTest, TasksRunInTheOrderTheyWerePosted) {
  auto worker = start_worker();
  std::vector<int> order;  // touched only by the worker thread until stop() joins it
  for (int i = 0; i < 200; ++i) {
    worker->post([&order, i](StorageContext&) { order.push_back(i); });
  }
  worker->stop();
  ASSERT_EQ(order.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
}

TEST_F(StorageWorkerTest, TasksSeeTheInjectedClock) {
  clock_.set(from_unix_millis(42'000));
  auto worker = start_worker();
  std::promise<SystemTime> seen;
  worker->post([&seen](StorageContext& ctx) { seen.set_value(ctx.now); });
  auto f = seen.get_future();
  ASSERT_EQ(f.wait_for(kDeadline), std::future_status::ready);
  EXPECT_EQ(to_unix_millis(f.get()), 42'000);
}

TEST_F(StorageWorkerTest, CompletionRunsAfterCommitWithOkAndSeesDurableData) {
  auto worker = start_worker();
  struct Outcome {
    Status status;
    std::size_t durable = 0;
  };
  std::promise<Outcome> done;
  const std::string db = path();
  worker->post([&done, db](StorageContext& ctx) {
    ASSERT_TRUE(ctx.store.append(kNowMs, "error", "app", "durable"));
    ctx.appended = true;
    ctx.on_commit.push_back([&done, db](const Status& st) {
      // A second connection sees only committed data.
      auto other = SqliteEventStore::open(db, kNowMs);
      std::size_t n = 0;
      if (other) {
        auto all = other->store->all();
        if (all) n = all->size();
      }
      done.set_value({st, n});
    });
  });
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(kDeadline), std::future_status::ready);
  Outcome outcome = f.get();
  EXPECT_TRUE(outcome.status) << outcome.status.message();
  EXPECT_EQ(outcome.durable, 1u);
  worker->stop();
  ASSERT_EQ(durable_events().size(), 1u);
}

TEST_F(StorageWorkerTest, StopDrainsEveryPostedTask) {
  auto worker = start_worker();
  std::promise<void> release = hold(*worker);
  std::atomic<int> ran{0};
  for (int i = 0; i < 50; ++i) {
    worker->post(append_task(i, "e" + std::to_string(i)));
    worker->post([&ran](StorageContext&) { ++ran; });
  }
  EXPECT_EQ(worker->backlog(), 101u);
  release.set_value();
  worker->stop();
  EXPECT_EQ(ran.load(), 50);
  EXPECT_EQ(worker->backlog(), 0u);
  EXPECT_EQ(durable_events().size(), 50u);
}

TEST_F(StorageWorkerTest, StopIsIdempotent) {
  auto worker = start_worker();
  worker->post(append_task(1, "x"));
  worker->stop();
  worker->stop();
  EXPECT_EQ(durable_events().size(), 1u);
}

TEST_F(StorageWorkerTest, BacklogReturnsToZeroOnceTasksAreDone) {
  auto worker = start_worker();
  for (int i = 0; i < 30; ++i) worker->post(append_task(i, "b"));
  EXPECT_LE(worker->backlog(), 30u);
  worker->stop();
  EXPECT_EQ(worker->backlog(), 0u);
}

TEST_F(StorageWorkerTest, CountersPersistAcrossWorkerRestarts) {
  {
    auto worker = start_worker();
    worker->post([](StorageContext& ctx) {
      ctx.count("dropped.no_consent", 3);
      ctx.count("accepted");
      ctx.count("ignored", 0);
    });
    worker->stop();
  }
  auto worker = start_worker();
  std::promise<std::map<std::string, std::int64_t>> seen;
  worker->post([&seen](StorageContext& ctx) {
    ctx.count("dropped.no_consent", 2);
    seen.set_value(ctx.counters);
  });
  auto f = seen.get_future();
  ASSERT_EQ(f.wait_for(kDeadline), std::future_status::ready);
  auto counters = f.get();
  EXPECT_EQ(counters["dropped.no_consent"], 5);
  EXPECT_EQ(counters["accepted"], 1);
  EXPECT_EQ(counters.count("ignored"), 0u);
  worker->stop();
  worker.reset();
  EXPECT_EQ(durable_counters()["dropped.no_consent"], 5);
}

TEST_F(StorageWorkerTest, OverTheEventCapTheOldestAreEvictedAndCounted) {
  StorageLimits small{10, 1'000'000, 1024};
  auto worker = start_worker(small);
  for (int i = 0; i < 25; ++i) worker->post(append_task(i, "e" + std::to_string(i)));
  worker->stop();
  worker.reset();
  auto events = durable_events();
  ASSERT_EQ(events.size(), 10u);
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].body, "e" + std::to_string(15 + i));
  }
  auto counters = durable_counters();
  EXPECT_EQ(counters["dropped.evicted_size"], 15);
  EXPECT_EQ(counters.count("pruned.size"), 0u);
}

TEST_F(StorageWorkerTest, OverTheByteCapTheOldestAreEvicted) {
  StorageLimits small{1'000, 100, 1024};
  auto worker = start_worker(small);
  for (int i = 0; i < 5; ++i) worker->post(append_task(i, std::string(40, 'a' + i)));
  worker->stop();
  worker.reset();
  auto events = durable_events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].body, std::string(40, 'd'));
  EXPECT_EQ(events[1].body, std::string(40, 'e'));
  EXPECT_EQ(durable_counters()["dropped.evicted_size"], 3);
}

TEST_F(StorageWorkerTest, TasksThatAppendNothingDoNotEvict) {
  {
    auto store = open_store();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(store->append(i, "error", "app", "pre"));
  }
  StorageLimits small{2, 1'000'000, 1024};
  auto worker = start_worker(small);
  worker->post([](StorageContext& ctx) { ctx.count("read.only"); });
  worker->stop();
  worker.reset();
  EXPECT_EQ(durable_events().size(), 5u);
}

TEST_F(StorageWorkerTest, ATaskThatThrowsDoesNotStopTheOthers) {
  auto worker = start_worker();
  worker->post([](StorageContext&) { throw std::runtime_error("boom"); });
  std::promise<Status> done;
  worker->post([&done](StorageContext& ctx) {
    ASSERT_TRUE(ctx.store.append(1, "error", "app", "after the throw"));
    ctx.on_commit.push_back([&done](const Status& st) { done.set_value(st); });
  });
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(kDeadline), std::future_status::ready);
  EXPECT_TRUE(f.get());
  worker->stop();
  ASSERT_EQ(durable_events().size(), 1u);
}

TEST_F(StorageWorkerTest, FailedBatchReportsTheErrorAndKeepsNothing) {
  auto worker = start_worker();
  break_counter_writes(true);
  std::promise<Status> done;
  worker->post([&done](StorageContext& ctx) {
    ASSERT_TRUE(ctx.store.append(1, "error", "app", "lost"));
    ctx.appended = true;
    ctx.count("accepted");
    ctx.on_commit.push_back([&done](const Status& st) { done.set_value(st); });
  });
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(kDeadline), std::future_status::ready);
  Status st = f.get();
  EXPECT_FALSE(st);
  EXPECT_FALSE(st.message().empty());
  worker->stop();
  worker.reset();
  EXPECT_TRUE(durable_events().empty());
  EXPECT_EQ(durable_counters().count("accepted"), 0u);
}

TEST_F(StorageWorkerTest, ACounterFirstCountedInAFailedBatchIsGoneAfterIt) {
  auto worker = start_worker();
  break_counter_writes(true);
  std::promise<Status> failed;
  worker->post([&failed](StorageContext& ctx) {
    ASSERT_TRUE(ctx.store.append(1, "error", "app", "refused"));
    ctx.count("fields_dropped.unknown", 2);
    ctx.count_fact("dropped.no_consent");
    ctx.on_commit.push_back([&failed](const Status& st) { failed.set_value(st); });
  });
  ASSERT_EQ(failed.get_future().wait_for(kDeadline), std::future_status::ready);
  break_counter_writes(false);
  std::promise<std::map<std::string, std::int64_t>> seen;
  worker->post_read([&seen](StorageContext& ctx) { seen.set_value(ctx.counters); });
  auto f = seen.get_future();
  ASSERT_EQ(f.wait_for(kDeadline), std::future_status::ready);
  const auto counters = f.get();
  EXPECT_EQ(counters.count("fields_dropped.unknown"), 0u) << "neither a value nor a zero";
  EXPECT_EQ(counters.at("dropped.no_consent"), 1) << "a fact stands";
  EXPECT_EQ(counters.at("dropped.storage_error"), 1);
}

TEST_F(StorageWorkerTest, StorageErrorCountSurvivesARestart) {
  auto worker = start_worker();
  break_counter_writes(true);
  std::promise<Status> failed;
  worker->post([&failed](StorageContext& ctx) {
    ASSERT_TRUE(ctx.store.append(1, "error", "app", "refused"));
    ctx.count("accepted");
    ctx.on_commit.push_back([&failed](const Status& st) { failed.set_value(st); });
  });
  auto failed_status = failed.get_future();
  ASSERT_EQ(failed_status.wait_for(kDeadline), std::future_status::ready);
  EXPECT_FALSE(failed_status.get());
  break_counter_writes(false);
  // A later batch that changes no counter of its own.
  std::promise<Status> later;
  worker->post([&later](StorageContext& ctx) {
    ASSERT_TRUE(ctx.store.append(2, "error", "app", "later"));
    ctx.on_commit.push_back([&later](const Status& st) { later.set_value(st); });
  });
  auto f = later.get_future();
  ASSERT_EQ(f.wait_for(kDeadline), std::future_status::ready);
  EXPECT_TRUE(f.get());
  worker->stop();
  worker.reset();
  auto counters = durable_counters();
  EXPECT_EQ(counters["dropped.storage_error"], 1);
  EXPECT_EQ(counters.count("accepted"), 0u);
}

TEST_F(StorageWorkerTest, AFailedBatchCountsOnlyTheEventsAndUsageMessagesItRefused) {
  auto worker = start_worker();
  std::promise<Status> stored;
  worker->post(append_task(1, "kept"));
  worker->post([&stored](StorageContext& ctx) {
    ctx.on_commit.push_back([&stored](const Status& st) { stored.set_value(st); });
  });
  ASSERT_EQ(stored.get_future().wait_for(kDeadline), std::future_status::ready);
  break_counter_writes(true);
  std::promise<void> release = hold(*worker);  // the tasks below run as one batch
  std::promise<Status> failed;
  constexpr int kEvents = 3;
  for (int i = 0; i < kEvents; ++i) worker->post(append_task(2 + i, "refused"));
  worker->post([](StorageContext& ctx) {
    ASSERT_TRUE(ctx.store.put_usage_week({"2026-11-30", "app"}, R"({"counters":{}})"));
  });
  // Tasks that are not an app's message: a counter update, a deletion, a read.
  worker->post([](StorageContext& ctx) { ctx.count("connections.rejected_peer"); });
  worker->post([](StorageContext& ctx) { ASSERT_TRUE(ctx.store.delete_unsent(std::nullopt)); });
  worker->post([&failed](StorageContext& ctx) {
    ASSERT_TRUE(ctx.store.stats());
    ctx.on_commit.push_back([&failed](const Status& st) { failed.set_value(st); });
  });
  release.set_value();
  auto f = failed.get_future();
  ASSERT_EQ(f.wait_for(kDeadline), std::future_status::ready);
  EXPECT_FALSE(f.get()) << "the batch could not commit";
  break_counter_writes(false);
  // The next batch that commits saves the count.
  std::promise<Status> later;
  worker->post(append_task(10, "later"));
  worker->post([&later](StorageContext& ctx) {
    ctx.on_commit.push_back([&later](const Status& st) { later.set_value(st); });
  });
  auto l = later.get_future();
  ASSERT_EQ(l.wait_for(kDeadline), std::future_status::ready);
  EXPECT_TRUE(l.get());
  worker->stop();
  worker.reset();
  auto counters = durable_counters();
  EXPECT_EQ(counters["dropped.storage_error"], kEvents + 1) << "three events and one usage total";
  EXPECT_EQ(counters.count("connections.rejected_peer"), 0u);
  EXPECT_EQ(durable_events().size(), 2u);
}

}  // namespace
}  // namespace dollhouse::daemon
