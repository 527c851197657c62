#include "server/storage/sqlite_storage.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "server/storage/schema.hpp"

namespace dollhouse::server {

namespace {

// A cached prepared statement, reset and unbound when the Use goes out of scope.
class Use {
 public:
  explicit Use(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Use() {
    if (stmt_ == nullptr) return;
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

  Use& text(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Use& integer(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Use& real(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  int step() { return sqlite3_step(stmt_); }
  std::string column_text(int i) const {
    const auto* p = sqlite3_column_text(stmt_, i);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i)))
             : std::string();
  }
  std::int64_t column_int(int i) const { return sqlite3_column_int64(stmt_, i); }
  double column_real(int i) const { return sqlite3_column_double(stmt_, i); }

 private:
  sqlite3_stmt* stmt_;
};

class SqliteStorage final : public Storage {
 public:
  explicit SqliteStorage(sqlite3* db) : db_(db) {}
  ~SqliteStorage() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }

  Status init() {
    std::lock_guard lock(mutex_);
    sqlite3_busy_timeout(db_, 5000);
    for (const char* sql :
         {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON"}) {
      if (Status st = exec(sql); !st) return st;
    }
    for (const char* sql : sqlite_schema()) {
      if (Status st = exec(sql); !st) return st;
    }
    return migrate_legacy();
  }

  // Group commit: a batch that arrives while another request's transaction is being written
  // waits, and the next writer writes every batch waiting then in one transaction, each under a
  // savepoint of its own so that one that fails takes no other with it. Requests in flight
  // together share one commit and one set of journal frames.
  Result<IngestResult> ingest_batch(const IngestBatch& batch) override {
    Waiting mine{&batch, std::nullopt};
    std::unique_lock lock(group_mutex_);
    waiting_.push_back(&mine);
    while (!mine.result) {
      if (group_writing_) {
        group_written_.wait(lock);
        continue;
      }
      group_writing_ = true;
      std::vector<Waiting*> group;
      group.swap(waiting_);
      lock.unlock();
      std::vector<Result<IngestResult>> results;
      try {
        results = write_group(group);
      } catch (const std::exception& e) {
        // Out of memory mid-group: every batch of it fails (and is sent again), none waits on.
        {
          std::lock_guard db_lock(mutex_);
          if (sqlite3_get_autocommit(db_) == 0) (void)exec("ROLLBACK");
        }
        results.assign(group.size(),
                       Status::error("io_error", std::string("database: ") + e.what()));
      }
      lock.lock();
      for (std::size_t i = 0; i < group.size(); ++i) group[i]->result = std::move(results[i]);
      group_writing_ = false;
      group_written_.notify_all();
    }
    return std::move(*mine.result);
  }

  Result<std::size_t> delete_installation(const std::string& install_id, SystemTime now) override {
    std::lock_guard lock(mutex_);
    if (Status st = exec("BEGIN IMMEDIATE"); !st) return st;
    std::size_t removed = 0;
    bool ok = false;
    {
      Use del = use("DELETE FROM raw_events WHERE install_id = ?1");
      del.text(1, install_id);
      if (del.step() == SQLITE_DONE) {
        removed = static_cast<std::size_t>(sqlite3_changes(db_));
        Use rec = use("INSERT INTO deletions(deleted_at, events_removed) VALUES(?1, ?2)");
        rec.integer(1, to_unix_millis(now)).integer(2, static_cast<std::int64_t>(removed));
        ok = rec.step() == SQLITE_DONE;
      }
    }
    if (!ok) {
      Status st = error("delete");
      (void)exec("ROLLBACK");
      return st;
    }
    if (Status st = finish(true); !st) return st;
    return removed;
  }

  Result<RollupReport> roll_up(SystemTime cutoff, SystemTime batch_cutoff, const RollupFn& rollup,
                               const ActivityFn& close_day) override {
    std::lock_guard lock(mutex_);
    RollupReport report;
    std::vector<std::string> due;
    {
      Use q =
          use("SELECT DISTINCT day FROM raw_events WHERE received_at < ?1 "
              "AND day NOT IN (SELECT day FROM closed_days) ORDER BY day");
      q.integer(1, to_unix_millis(cutoff));
      int rc;
      while ((rc = q.step()) == SQLITE_ROW) due.push_back(q.column_text(0));
      if (rc != SQLITE_DONE) return error("find days to close");
    }
    for (const std::string& day : due) {
      if (Status st = exec("BEGIN IMMEDIATE"); !st) return st;
      auto activity = activity_locked(day, day);
      bool ok = activity.is_ok() && add_locked(close_day(*activity)).is_ok();
      if (ok) {
        Use mark = use("INSERT INTO closed_days(day, closed_at) VALUES(?1, ?2)");
        mark.text(1, day).integer(2, to_unix_millis(cutoff));
        ok = mark.step() == SQLITE_DONE;
      }
      if (!ok) {
        Status st = activity.is_ok() ? error("close day") : activity.status();
        (void)exec("ROLLBACK");
        return st;
      }
      if (Status st = finish(true); !st) return st;
      report.days_closed++;
    }
    for (;;) {
      if (Status st = exec("BEGIN IMMEDIATE"); !st) return st;
      std::vector<StoredEvent> events;
      std::int64_t last_id = 0;
      {
        Use q =
            use("SELECT id, event_type, day, body FROM raw_events WHERE received_at < ?1 "
                "ORDER BY id LIMIT ?2");
        q.integer(1, to_unix_millis(cutoff)).integer(2, static_cast<std::int64_t>(kRollupChunk));
        int rc;
        while ((rc = q.step()) == SQLITE_ROW) {
          last_id = q.column_int(0);
          events.push_back({q.column_text(1), q.column_text(2), q.column_text(3)});
        }
        if (rc != SQLITE_DONE) {
          Status st = error("roll up");
          (void)exec("ROLLBACK");
          return st;
        }
      }
      bool ok = true;
      if (!events.empty()) {
        ok = add_locked(rollup(events)).is_ok();
        if (ok) {
          Use del = use("DELETE FROM raw_events WHERE received_at < ?1 AND id <= ?2");
          del.integer(1, to_unix_millis(cutoff)).integer(2, last_id);
          ok = del.step() == SQLITE_DONE;
        }
      }
      if (Status st = finish(ok); !st) return st;
      report.events_rolled_up += events.size();
      if (events.size() < kRollupChunk) break;
    }
    Use purge = use("DELETE FROM batches WHERE received_at < ?1");
    purge.integer(1, to_unix_millis(batch_cutoff));
    if (purge.step() != SQLITE_DONE) return error("purge batches");
    report.batches_purged = static_cast<std::size_t>(sqlite3_changes(db_));
    return report;
  }

  Status add_aggregates(const AggregateRows& rows) override {
    std::lock_guard lock(mutex_);
    if (Status st = exec("BEGIN IMMEDIATE"); !st) return st;
    Status st = add_locked(rows);
    if (Status fin = finish(st.is_ok()); !fin) return fin;
    return st;
  }

  Result<AggregateRows> aggregates(const std::string& from_day,
                                   const std::string& to_day) override {
    std::lock_guard lock(mutex_);
    return aggregates_locked(from_day, to_day);
  }

  Result<std::vector<StoredEvent>> raw_events(const std::string& from_day,
                                              const std::string& to_day) override {
    std::lock_guard lock(mutex_);
    return raw_events_locked(from_day, to_day);
  }

  Result<DayActivity> open_activity(const std::string& from_day,
                                    const std::string& to_day) override {
    std::lock_guard lock(mutex_);
    return activity_locked(from_day, to_day);
  }

  Result<RangeSnapshot> read_range(const std::string& from_day,
                                   const std::string& to_day) override {
    std::lock_guard lock(mutex_);
    // A read transaction: the same snapshot also against another process writing the file.
    if (Status st = exec("BEGIN"); !st) return st;
    Result<RangeSnapshot> snap = range_locked(from_day, to_day);
    if (Status fin = finish(snap.is_ok()); !fin) return fin;
    return snap;
  }

  Result<StorageCounts> counts() override {
    std::lock_guard lock(mutex_);
    StorageCounts c;
    Use q =
        use("SELECT (SELECT COUNT(*) FROM raw_events), (SELECT COUNT(*) FROM batches), "
            "(SELECT COUNT(*) FROM deletions)");
    if (q.step() != SQLITE_ROW) return error("count");
    c.raw_events = q.column_int(0);
    c.batches = q.column_int(1);
    c.deletions = q.column_int(2);
    return c;
  }

  Status ping() override {
    std::lock_guard lock(mutex_);
    Use q = use("SELECT 1");
    return q.step() == SQLITE_ROW ? Status::ok() : error("ping");
  }

  std::string kind() const override { return "sqlite"; }

 private:
  Result<IngestResult> ingest_locked(const IngestBatch& batch) {
    {
      Use seen = use("SELECT accepted, rejected FROM batches WHERE batch_id = ?1");
      seen.text(1, batch.batch_id);
      int rc = seen.step();
      if (rc == SQLITE_ROW) {
        return IngestResult{true, static_cast<std::size_t>(seen.column_int(0)),
                            static_cast<std::size_t>(seen.column_int(1))};
      }
      if (rc != SQLITE_DONE) return error("check batch");
    }
    const std::int64_t received = to_unix_millis(batch.received_at);
    {
      Use ins =
          use("INSERT INTO batches(batch_id, received_at, accepted, rejected) VALUES(?1,?2,?3,?4)");
      ins.text(1, batch.batch_id)
          .integer(2, received)
          .integer(3, static_cast<std::int64_t>(batch.events.size()))
          .integer(4, static_cast<std::int64_t>(batch.rejected));
      if (ins.step() != SQLITE_DONE) return error("record batch");
    }
    for (const NewEvent& e : batch.events) {
      Use ins = use(
          "INSERT INTO raw_events(install_id, event_type, day, received_at, body, app, version, "
          "signature) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)");
      ins.text(1, batch.install_id).text(2, e.event_type).text(3, e.day).integer(4, received);
      ins.text(5, e.body).text(6, e.app).text(7, e.version).text(8, e.signature);
      if (ins.step() != SQLITE_DONE) return error("store event");
    }
    return IngestResult{false, batch.events.size(), batch.rejected};
  }

  Status add_locked(const AggregateRows& rows) {
    for (const auto& [key, value] : rows) {
      Use up =
          use("INSERT INTO aggregates(day, app, metric, dim, value) VALUES(?1,?2,?3,?4,?5) "
              "ON CONFLICT(day, app, metric, dim) DO UPDATE SET "
              "value = aggregates.value + excluded.value");
      up.text(1, key.day).text(2, key.app).text(3, key.metric).text(4, key.dim).real(5, value);
      if (up.step() != SQLITE_DONE) return error("add aggregates");
    }
    return Status::ok();
  }

  Result<RangeSnapshot> range_locked(const std::string& from_day, const std::string& to_day) {
    auto aggregates = aggregates_locked(from_day, to_day);
    if (!aggregates) return aggregates.status();
    auto raw = raw_events_locked(from_day, to_day);
    if (!raw) return raw.status();
    auto open = activity_locked(from_day, to_day);
    if (!open) return open.status();
    return RangeSnapshot{std::move(*aggregates), std::move(*raw), std::move(*open)};
  }

  Result<AggregateRows> aggregates_locked(const std::string& from_day, const std::string& to_day) {
    AggregateRows rows;
    Use q =
        use("SELECT day, app, metric, dim, value FROM aggregates WHERE day >= ?1 AND day <= ?2");
    q.text(1, from_day).text(2, to_day);
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
      rows[{q.column_text(0), q.column_text(1), q.column_text(2), q.column_text(3)}] +=
          q.column_real(4);
    }
    if (rc != SQLITE_DONE) return error("read aggregates");
    return rows;
  }

  Result<std::vector<StoredEvent>> raw_events_locked(const std::string& from_day,
                                                     const std::string& to_day) {
    std::vector<StoredEvent> events;
    Use q = use("SELECT event_type, day, body FROM raw_events WHERE day >= ?1 AND day <= ?2");
    q.text(1, from_day).text(2, to_day);
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
      events.push_back({q.column_text(0), q.column_text(1), q.column_text(2)});
    }
    if (rc != SQLITE_DONE) return error("read raw events");
    return events;
  }

  Result<DayActivity> activity_locked(const std::string& from_day, const std::string& to_day) {
    DayActivity out;
    {
      Use q = use(kActivitySql);
      q.text(1, from_day).text(2, to_day);
      int rc;
      while ((rc = q.step()) == SQLITE_ROW) {
        out.activity.push_back({q.column_text(0), q.column_text(1), q.column_text(2),
                                q.column_int(3), q.column_int(4)});
      }
      if (rc != SQLITE_DONE) return error("count active installations");
    }
    Use q = use(kSignaturesSql);
    q.text(1, from_day).text(2, to_day);
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
      out.signatures.push_back({q.column_text(0), q.column_text(1), q.column_text(2),
                                q.column_text(3), q.column_int(4), q.column_int(5)});
    }
    if (rc != SQLITE_DONE) return error("count crash signatures");
    return out;
  }

  // A database of an earlier version: the columns raw_events lacks, and its counters from
  // daily_aggregates under the app "" (see schema.hpp). One transaction; idempotent.
  Status migrate_legacy() {
    bool has_signature = false, has_legacy_table = false;
    {
      Use q = use("SELECT COUNT(*) FROM pragma_table_info('raw_events') WHERE name = 'signature'");
      if (q.step() != SQLITE_ROW) return error("inspect the schema");
      has_signature = q.column_int(0) > 0;
    }
    {
      Use q =
          use("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND "
              "name = 'daily_aggregates'");
      if (q.step() != SQLITE_ROW) return error("inspect the schema");
      has_legacy_table = q.column_int(0) > 0;
    }
    if (has_signature && !has_legacy_table) return Status::ok();
    if (Status st = exec("BEGIN IMMEDIATE"); !st) return st;
    Status st = Status::ok();
    if (!has_signature) {
      for (const char* sql : kMigrateLegacyRawEventsSqlite) {
        if (st = exec(sql); !st) break;
      }
    }
    if (st && has_legacy_table) {
      for (const char* sql : kMigrateLegacyAggregatesSqlite) {
        if (st = exec(sql); !st) break;
      }
    }
    if (Status fin = finish(st.is_ok()); !fin) return fin;
    return st;
  }

  struct Waiting {
    const IngestBatch* batch;
    std::optional<Result<IngestResult>> result;
  };

  std::vector<Result<IngestResult>> write_group(const std::vector<Waiting*>& group) {
    std::lock_guard lock(mutex_);
    std::vector<Result<IngestResult>> results;
    if (Status st = exec("BEGIN IMMEDIATE"); !st) {
      for (std::size_t i = 0; i < group.size(); ++i) results.emplace_back(st);
      return results;
    }
    for (const Waiting* w : group) {
      if (sqlite3_get_autocommit(db_) != 0) break;  // see below
      Status saved = exec("SAVEPOINT batch");
      Result<IngestResult> result = saved ? ingest_locked(*w->batch) : Result<IngestResult>(saved);
      if (saved && !result) (void)exec("ROLLBACK TO batch");
      if (saved) (void)exec("RELEASE batch");
      results.push_back(std::move(result));
    }
    if (sqlite3_get_autocommit(db_) != 0) {
      // An error (a full disk, say) rolled back the whole transaction: no batch of the group
      // was stored, those before it included.
      const Status gone = Status::error(
          "io_error", "database: could not store the batch: the transaction was rolled back");
      results.resize(group.size(), gone);
      for (auto& result : results) result = gone;
      return results;
    }
    if (Status st = finish(true); !st) {
      for (auto& result : results) result = st;
    }
    return results;
  }

  // Commits when ok, else rolls back; the error of a failed commit is returned.
  Status finish(bool ok) {
    if (ok) {
      if (Status st = exec("COMMIT"); !st) {
        (void)exec("ROLLBACK");
        return st;
      }
      return Status::ok();
    }
    return exec("ROLLBACK");
  }

  Status exec(const char* sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
      std::string text = msg ? msg : "unknown error";
      sqlite3_free(msg);
      return Status::error(busy() ? "busy" : "io_error", std::string("database: ") + text);
    }
    return Status::ok();
  }

  Use use(const char* sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) !=
          SQLITE_OK) {
        // A statement that does not prepare is a programming error in this file; the first
        // step on the null statement reports SQLITE_MISUSE, which every caller handles.
        stmt = nullptr;
      }
      it = cache_.emplace(sql, stmt).first;
    }
    return Use(it->second);
  }

  bool busy() const {
    int code = sqlite3_errcode(db_);
    return code == SQLITE_BUSY || code == SQLITE_LOCKED;
  }

  Status error(const char* what) const {
    return Status::error(busy() ? "busy" : "io_error",
                         std::string("database: could not ") + what + ": " + sqlite3_errmsg(db_));
  }

  std::mutex mutex_;
  // The batches waiting for the next group commit (ingest_batch), and whether one is written.
  std::mutex group_mutex_;
  std::condition_variable group_written_;
  std::vector<Waiting*> waiting_;
  bool group_writing_ = false;
  sqlite3* db_;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

}  // namespace

Result<std::unique_ptr<Storage>> open_sqlite_storage(const std::string& path) {
  // A new database file is created empty with mode 0600 before SQLite opens it, so it is never
  // readable by others, whatever the umask; SQLite gives its -wal and -shm files the mode of the
  // database file. An existing file keeps the mode it has. When the file cannot be created here,
  // SQLite's open below says why.
  if (!path.empty() && path != ":memory:") {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      const bool restricted = ::fchmod(fd, 0600) == 0;
      const int e = errno;
      ::close(fd);
      if (!restricted) {
        return Status::error(
            "io_error", "cannot restrict database " + path + " to mode 0600: " + std::strerror(e));
      }
    }
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::error("io_error", "cannot open database " + path + ": " + message);
  }
  auto storage = std::make_unique<SqliteStorage>(db);
  if (Status st = storage->init(); !st) return st;
  return std::unique_ptr<Storage>(std::move(storage));
}

}  // namespace dollhouse::server
