#include "daemon/storage/sqlite_event_store.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "tests/support/temp_dir.hpp"
#include "tests/unit/daemon/event_store_contract.hpp"

namespace dollhouse::daemon {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kNowMs = 1'795'959'846'123LL;

std::string db_path(const std::string& dir) {
  return dir + "/telemetry.db";
}

// A second, plain connection to the file, for what the EventStore interface does not expose.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errmsg(db_);
    }
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  void exec(const std::string& sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << (msg ? msg : "?");
    }
    sqlite3_free(msg);
  }
  // Runs one statement with ?1 bound to `value`.
  void exec_bound(const std::string& sql, std::int64_t value) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
      return;
    }
    sqlite3_bind_int64(stmt, 1, value);
    if (sqlite3_step(stmt) != SQLITE_DONE) ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
  }
  std::string scalar(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* text = sqlite3_column_text(stmt, 0);
      if (text != nullptr) out = reinterpret_cast<const char*>(text);
    } else {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
    }
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

std::unique_ptr<EventStore> open_sqlite(const std::string& dir) {
  auto opened = SqliteEventStore::open(db_path(dir), kNowMs);
  if (!opened) {
    ADD_FAILURE() << opened.status().code() << ": " << opened.status().message();
    return nullptr;
  }
  EXPECT_TRUE(opened->recovered_from.empty());
  return std::move(opened->store);
}

void mark_sent_sqlite(EventStore&, const std::string& dir, std::int64_t id) {
  RawDb(db_path(dir)).exec_bound("UPDATE events SET sent = 1 WHERE id = ?1", id);
}

contract::EventStoreFactory sqlite_factory() {
  return {"Sqlite", open_sqlite, mark_sent_sqlite, true};
}

}  // namespace

namespace contract {
INSTANTIATE_TEST_SUITE_P(Sqlite, EventStoreContract, ::testing::Values(sqlite_factory()),
                         EventStoreContract::factory_name);
}  // namespace contract

namespace {

// ---- SQLite specifics: schema, journal, damaged and foreign files ------------------------------

TEST(SqliteEventStore, OpenCreatesTheSchemaAtTheCurrentVersion) {
  testing::TempDir dir;
  auto opened = SqliteEventStore::open(db_path(dir.path()), kNowMs);
  ASSERT_TRUE(opened) << opened.status().message();
  EXPECT_TRUE(opened->recovered_from.empty());
  RawDb raw(db_path(dir.path()));
  EXPECT_EQ(raw.scalar("PRAGMA user_version"), std::to_string(SqliteEventStore::kSchemaVersion));
  EXPECT_EQ(raw.scalar("PRAGMA journal_mode"), "wal");
  for (const char* table : {"events", "counters", "usage_weeks"}) {
    EXPECT_EQ(raw.scalar(std::string("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
                                     "AND name = '") +
                         table + "'"),
              "1")
        << table;
  }
}

TEST(SqliteEventStore, EventsFromBeforeTheAppColumnGetTheirAppFromTheBody) {
  testing::TempDir dir;
  const std::string path = db_path(dir.path());
  {
    // A database as schema 2 left it: no app column.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    const char* schema2 =
        "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, created_ms INTEGER NOT NULL, "
        "event_type TEXT NOT NULL, body TEXT NOT NULL, bytes INTEGER NOT NULL, sent INTEGER NOT "
        "NULL DEFAULT 0, batch_id TEXT);"
        "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE usage_weeks (week_start TEXT PRIMARY KEY, data TEXT NOT NULL) WITHOUT "
        "ROWID;"
        "CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE deletions (install_id TEXT PRIMARY KEY, requested_ms INTEGER NOT NULL) "
        "WITHOUT ROWID;"
        "INSERT INTO events (created_ms, event_type, body, bytes) VALUES "
        "(1, 'error', '{\"app\":\"demo\"}', 14), (2, 'error', 'not json', 8);"
        "PRAGMA user_version = 2;";
    ASSERT_EQ(sqlite3_exec(db, schema2, nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  auto opened = SqliteEventStore::open(path, kNowMs);
  ASSERT_TRUE(opened) << opened.status().message();
  auto stats = opened->store->app_stats();
  ASSERT_TRUE(stats) << stats.status().message();
  EXPECT_EQ(stats->at("demo").pending, 1);
  EXPECT_EQ(stats->at("").pending, 1);
}

TEST(SqliteEventStore, ReopeningAnExistingDatabaseKeepsItsVersionAndData) {
  testing::TempDir dir;
  {
    auto opened = SqliteEventStore::open(db_path(dir.path()), kNowMs);
    ASSERT_TRUE(opened);
    ASSERT_TRUE(opened->store->append(1, "error", "app", "kept"));
  }
  auto opened = SqliteEventStore::open(db_path(dir.path()), kNowMs + 1);
  ASSERT_TRUE(opened);
  EXPECT_TRUE(opened->recovered_from.empty());
  auto all = opened->store->all();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].body, "kept");
}

TEST(SqliteEventStore, FileOfRandomBytesIsMovedAsideAndAFreshDatabaseWorks) {
  testing::TempDir dir;
  std::string path = db_path(dir.path());
  std::string garbage(8192, '\0');
  std::mt19937 gen(1234);
  for (char& c : garbage) c = static_cast<char>(gen() & 0xff);
  {
    std::ofstream out(path, std::ios::binary);
    out << garbage;
  }
  auto opened = SqliteEventStore::open(path, kNowMs);
  ASSERT_TRUE(opened) << opened.status().message();
  std::string expected_aside = path + ".corrupt-" + std::to_string(kNowMs);
  EXPECT_EQ(opened->recovered_from, expected_aside);
  ASSERT_TRUE(fs::exists(expected_aside));
  EXPECT_EQ(fs::file_size(expected_aside), garbage.size()) << "the damaged file is kept whole";
  ASSERT_TRUE(opened->store->append(1, "error", "app", "fresh"));
  auto all = opened->store->all();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].body, "fresh");
}

TEST(SqliteEventStore, DirectoryAtTheDatabasePathIsMovedAsideWithItsContentAndAFreshOneWorks) {
  testing::TempDir dir;
  std::string path = db_path(dir.path());
  fs::create_directory(path);
  { std::ofstream(path + "/inside") << "kept"; }
  auto opened = SqliteEventStore::open(path, kNowMs);
  ASSERT_TRUE(opened) << opened.status().message();
  std::string expected_aside = path + ".corrupt-" + std::to_string(kNowMs);
  EXPECT_EQ(opened->recovered_from, expected_aside);
  EXPECT_TRUE(fs::is_directory(expected_aside));
  EXPECT_TRUE(fs::exists(expected_aside + "/inside")) << "what was there is kept whole";
  EXPECT_TRUE(fs::is_regular_file(path));
  ASSERT_TRUE(opened->store->append(1, "error", "app", "fresh"));
  auto all = opened->store->all();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].body, "fresh");
}

TEST(SqliteEventStore, FifoAtTheDatabasePathIsMovedAside) {
  testing::TempDir dir;
  std::string path = db_path(dir.path());
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  auto opened = SqliteEventStore::open(path, kNowMs);
  ASSERT_TRUE(opened) << opened.status().message();
  EXPECT_TRUE(fs::is_fifo(opened->recovered_from));
  EXPECT_TRUE(fs::is_regular_file(path));
  EXPECT_TRUE(opened->store->append(1, "error", "app", "fresh"));
}

TEST(SqliteEventStore, DamagedPagesAreMovedAside) {
  testing::TempDir dir;
  std::string path = db_path(dir.path());
  {
    auto opened = SqliteEventStore::open(path, kNowMs);
    ASSERT_TRUE(opened);
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(opened->store->append(i, "error", "app", std::string(500, 'x')));
    }
  }
  {
    // Checkpoint the WAL into the main file, then overwrite pages past the header.
    RawDb raw(path);
    raw.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  ASSERT_GT(fs::file_size(path), 16'384u);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096 + 100);
    std::string junk(4096 * 3, '\xA5');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto opened = SqliteEventStore::open(path, kNowMs);
  ASSERT_TRUE(opened) << opened.status().message();
  EXPECT_FALSE(opened->recovered_from.empty());
  EXPECT_TRUE(fs::exists(opened->recovered_from));
  auto all = opened->store->all();
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->empty());
}

TEST(SqliteEventStore, NewerSchemaIsRefusedAndTheFileLeftAlone) {
  testing::TempDir dir;
  std::string path = db_path(dir.path());
  {
    auto opened = SqliteEventStore::open(path, kNowMs);
    ASSERT_TRUE(opened);
    ASSERT_TRUE(opened->store->append(1, "error", "app", "from the future"));
  }
  RawDb(path).exec("PRAGMA user_version = " + std::to_string(SqliteEventStore::kSchemaVersion + 1));
  auto opened = SqliteEventStore::open(path, kNowMs);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.status().code(), "unsupported_schema");
  EXPECT_NE(opened.status().message().find("newer"), std::string::npos)
      << opened.status().message();
  EXPECT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".corrupt-" + std::to_string(kNowMs)));
  RawDb raw(path);
  EXPECT_EQ(raw.scalar("SELECT body FROM events"), "from the future");
  EXPECT_EQ(raw.scalar("PRAGMA user_version"),
            std::to_string(SqliteEventStore::kSchemaVersion + 1));
}

TEST(SqliteEventStore, MissingDirectoryIsAnIoError) {
  testing::TempDir dir;
  auto opened = SqliteEventStore::open(dir.file("no/such/telemetry.db"), kNowMs);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.status().code(), "io_error");
}

TEST(SqliteEventStore, SymlinkedDatabaseIsNotFollowed) {
  testing::TempDir dir;
  std::string target = dir.file("elsewhere.db");
  {
    auto opened = SqliteEventStore::open(target, kNowMs);
    ASSERT_TRUE(opened);
  }
  fs::create_symlink(target, db_path(dir.path()));
  auto opened = SqliteEventStore::open(db_path(dir.path()), kNowMs);
  EXPECT_FALSE(opened);
}

// ---- Full disk: the local deletion, the WAL, the reserve
// -----------------------------------------

// Three events, one of them in a batch, and a usage total, committed.
void fill_local_log(EventStore& store) {
  ASSERT_TRUE(store.begin());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store.append(kNowMs + i, "error", "app", R"({"eventType":"error"})"));
  }
  ASSERT_TRUE(store.take_batch(1, 1 << 20, "batch-1"));
  ASSERT_TRUE(store.put_usage_week({"2026-11-30", "app"}, R"({"counters":{}})"));
  ASSERT_TRUE(store.add_deletion("123e4567-e89b-42d3-a456-426614174000", kNowMs));
  ASSERT_TRUE(store.put_value("upload.schedule", "kept"));
  ASSERT_TRUE(store.commit());
}

TEST(SqliteEventStore, ALocalDeletionWhoseCommitFailedHoldsForEveryReadAndUpload) {
  testing::TempDir dir;
  auto store = open_sqlite(dir.path());
  ASSERT_TRUE(store);
  ASSERT_NO_FATAL_FAILURE(fill_local_log(*store));
  ASSERT_TRUE(store->begin());
  auto deleted = store->delete_local_log();
  ASSERT_TRUE(deleted);
  EXPECT_EQ(*deleted, 3);
  store->rollback();  // as after a commit the full disk refused
  EXPECT_TRUE(store->local_deletion_pending());
  EXPECT_EQ(RawDb(db_path(dir.path())).scalar("SELECT count(*) FROM events"), "3")
      << "not on disk yet";

  ASSERT_TRUE(store->begin_read());
  EXPECT_TRUE(store->newest(100, std::nullopt)->empty());
  EXPECT_TRUE(store->all()->empty());
  EXPECT_EQ(store->stats()->pending, 0);
  EXPECT_EQ(store->stats()->sent, 0);
  EXPECT_TRUE(store->app_stats()->empty());
  EXPECT_EQ(*store->count_since(std::nullopt), 0);
  EXPECT_TRUE(store->usage_weeks()->empty());
  ASSERT_TRUE(store->commit());
  auto batch = store->take_batch(100, 1 << 20, "batch-2");
  ASSERT_TRUE(batch);
  EXPECT_TRUE(batch->bodies.empty()) << "nothing deleted is uploaded, not even an open batch";
  EXPECT_EQ(store->pending_deletions()->size(), 1u) << "remote deletion requests stay";
  EXPECT_EQ(store->get_value("upload.schedule")->value_or(""), "kept");
}

TEST(SqliteEventStore, AHeldLocalDeletionReachesTheDiskWithTheNextWriteThatCommits) {
  testing::TempDir dir;
  auto store = open_sqlite(dir.path());
  ASSERT_TRUE(store);
  ASSERT_NO_FATAL_FAILURE(fill_local_log(*store));
  ASSERT_TRUE(store->begin());
  ASSERT_TRUE(store->delete_local_log());
  store->rollback();
  // A later transaction that writes something else.
  ASSERT_TRUE(store->begin());
  ASSERT_TRUE(store->append(kNowMs + 10, "crash", "app", R"({"eventType":"crash"})"));
  ASSERT_TRUE(store->commit());
  EXPECT_FALSE(store->local_deletion_pending());
  store.reset();
  RawDb raw(db_path(dir.path()));
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM events"), "1");
  EXPECT_EQ(raw.scalar("SELECT event_type FROM events"), "crash") << "only what came after";
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM usage_weeks"), "0");
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM deletions"), "1");
  EXPECT_EQ(raw.scalar("SELECT value FROM kv WHERE key = 'upload.schedule'"), "kept");
}

TEST(SqliteEventStore, TheWalIsBoundedAndAReserveIsKept) {
  testing::TempDir dir;
  auto store = open_sqlite(dir.path());
  ASSERT_TRUE(store);
  EXPECT_EQ(fs::file_size(db_path(dir.path()) + "-reserve"),
            static_cast<std::uintmax_t>(SqliteEventStore::kReserveBytes));
  RawDb raw(db_path(dir.path()));
  // Pragmas are per connection: ask the store's own settings through a write of many pages.
  const std::string body(2000, 'x');
  for (int txn = 0; txn < 40; ++txn) {
    ASSERT_TRUE(store->begin());
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(store->append(kNowMs, "error", "app", body));
    ASSERT_TRUE(store->commit());
  }
  // 8 MB written in all: SQLite's default would let the WAL reach 1000 pages (4 MiB).
  const auto wal = fs::file_size(db_path(dir.path()) + "-wal");
  EXPECT_LE(wal, static_cast<std::uintmax_t>(SqliteEventStore::kWalAutoCheckpointPages * 4096 +
                                             SqliteEventStore::kWalSizeLimitBytes))
      << "WAL of " << wal << " bytes";
}

}  // namespace
}  // namespace dollhouse::daemon
