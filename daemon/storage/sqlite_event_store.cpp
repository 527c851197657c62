#include "daemon/storage/sqlite_event_store.hpp"
#include "daemon/storage/sqlite_statement.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>

namespace dollhouse::daemon {
namespace {

// Migrations, applied in order; index i brings the schema from version i to i + 1.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE events (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  created_ms  INTEGER NOT NULL,
  event_type  TEXT    NOT NULL,
  body        TEXT    NOT NULL,
  bytes       INTEGER NOT NULL,
  sent        INTEGER NOT NULL DEFAULT 0,
  batch_id    TEXT
);
CREATE INDEX events_by_created ON events (created_ms);
CREATE INDEX events_unsent ON events (sent, id);
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE usage_weeks (week_start TEXT PRIMARY KEY, data TEXT NOT NULL) WITHOUT ROWID;
)sql",
    // 2: uploads. Named values for the schedule, and durable remote deletion requests.
    R"sql(
CREATE INDEX events_batch ON events (batch_id) WHERE batch_id IS NOT NULL;
CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE deletions (
  install_id   TEXT PRIMARY KEY,
  requested_ms INTEGER NOT NULL
) WITHOUT ROWID;
)sql",
    // 3: the sending app in its own column, for per-app counts and per-app withdrawal.
    R"sql(
ALTER TABLE events ADD COLUMN app TEXT NOT NULL DEFAULT '';
UPDATE events SET app = COALESCE(json_extract(body, '$.app'), '') WHERE json_valid(body);
CREATE INDEX events_by_app ON events (app, sent);
)sql",
    // 4: the open batch found without walking the unsent events (the uploader asks before
    // every batch; a long queue made that a scan of all of it).
    R"sql(
CREATE INDEX events_open_batch ON events (id) WHERE sent = 0 AND batch_id IS NOT NULL;
)sql",
};
static_assert(std::size(kMigrations) == SqliteEventStore::kSchemaVersion);

}  // namespace

namespace {

bool move_aside(const std::string& path, const std::string& aside) {
  bool ok = std::rename(path.c_str(), aside.c_str()) == 0;
  for (const char* suffix : {"-wal", "-shm"}) {
    std::string from = path + suffix;
    std::string to = aside + suffix;
    std::rename(from.c_str(), to.c_str());
  }
  return ok;
}

// Whether something is at `path` that is neither a regular file nor a symlink: a directory, a
// FIFO, a socket, a device. A symlink is not followed but refused by open (SQLITE_OPEN_NOFOLLOW);
// a missing file is created.
bool is_neither_file_nor_link(const std::string& path) {
  std::error_code ec;
  const auto type = std::filesystem::symlink_status(path, ec).type();
  if (ec) return false;  // missing, or not inspectable: open says why
  return type != std::filesystem::file_type::regular &&
         type != std::filesystem::file_type::symlink &&
         type != std::filesystem::file_type::not_found;
}

// Opens and checks a database file; nullptr with `corrupt` set when its content is unusable.
sqlite3* open_checked(const std::string& path, bool& corrupt, std::string& error,
                      int& system_errno) {
  corrupt = false;
  system_errno = 0;
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_FULLMUTEX,
      nullptr);
  if (rc != SQLITE_OK) {
    error = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if (db != nullptr) system_errno = sqlite3_system_errno(db);
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, 5000);
  char* msg = nullptr;
  const std::string pragmas =
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA journal_size_limit=" +
      std::to_string(SqliteEventStore::kWalSizeLimitBytes) + ";";
  rc = sqlite3_exec(db, pragmas.c_str(), nullptr, nullptr, &msg);
  std::string check;
  if (rc == SQLITE_OK) {
    rc = sqlite3_exec(
        db, "PRAGMA quick_check;",
        [](void* out, int, char** values, char**) {
          if (values[0] != nullptr && static_cast<std::string*>(out)->empty()) {
            *static_cast<std::string*>(out) = values[0];
          }
          return 0;
        },
        &check, &msg);
  }
  if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT || (rc == SQLITE_OK && check != "ok")) {
    corrupt = true;
  }
  if (rc != SQLITE_OK || corrupt) {
    if (rc != SQLITE_OK && sqlite3_system_errno(db) != 0) system_errno = sqlite3_system_errno(db);
    error = msg ? msg : (check.empty() ? sqlite3_errstr(rc) : check);
    sqlite3_free(msg);
    sqlite3_close(db);
    if (!corrupt && (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT)) corrupt = true;
    return nullptr;
  }
  return db;
}

std::string reserve_path(const std::string& db_path) {
  return db_path + "-reserve";
}

// Whether the file system that holds `path` has no room left, or less than `bytes`.
bool disk_has_less_than(const std::string& path, std::uintmax_t bytes) {
  std::error_code ec;
  auto space = std::filesystem::space(std::filesystem::path(path).parent_path(), ec);
  return !ec && space.available < bytes;
}

bool is_disk_full_errno(int e) {
#ifdef EDQUOT
  if (e == EDQUOT) return true;
#endif
  return e == ENOSPC;
}

}  // namespace

Result<SqliteEventStore::Opened> SqliteEventStore::open(const std::string& path,
                                                        std::int64_t now_ms) {
  Opened opened;
  bool corrupt = false;
  std::string error;
  int system_errno = 0;
  sqlite3* db = nullptr;
  if (is_neither_file_nor_link(path)) {
    corrupt = true;  // a directory where the database belongs: as damaged as a bad file
  } else {
    db = open_checked(path, corrupt, error, system_errno);
    if (db == nullptr && !corrupt &&
        (is_disk_full_errno(system_errno) || disk_has_less_than(path, kReserveBytes))) {
      // A full disk: the WAL and its index need room. The reserve is there for this.
      std::error_code ec;
      if (std::filesystem::remove(reserve_path(path), ec)) {
        db = open_checked(path, corrupt, error, system_errno);
      }
    }
  }
  if (db == nullptr && corrupt) {
    std::string aside = path + ".corrupt-" + std::to_string(now_ms);
    if (!move_aside(path, aside)) {
      return Status::error("io_error", "database " + path +
                                           " is damaged and cannot be moved "
                                           "aside; remove it by hand");
    }
    opened.recovered_from = aside;
    db = open_checked(path, corrupt, error, system_errno);
  }
  if (db == nullptr) {
    if (is_disk_full_errno(system_errno) || disk_has_less_than(path, 1)) {
      const std::string dir = std::filesystem::path(path).parent_path().string();
      return Status::error("io_error", "cannot open database " + path + ": disk full (" + error +
                                           "); free some space in " + dir +
                                           " and start the daemon again");
    }
    return Status::error("io_error", "cannot open database " + path + ": " + error);
  }
  std::unique_ptr<SqliteEventStore> store(new SqliteEventStore(db, path));
  // Migrate forward.
  int version = 0;
  {
    Statement& s = store->prepared("PRAGMA user_version");
    ResetOnExit reset(s);
    if (s.step() == SQLITE_ROW) version = static_cast<int>(s.int_col(0));
  }
  if (version > kSchemaVersion) {
    return Status::error("unsupported_schema",
                         "database " + path + " was written by a newer version (schema " +
                             std::to_string(version) + "); upgrade dollhouse-telemetryd");
  }
  for (int v = version; v < kSchemaVersion; ++v) {
    if (Status st = store->exec("BEGIN IMMEDIATE"); !st) return st;
    Status st = store->exec(kMigrations[v]);
    std::string set_version = "PRAGMA user_version = " + std::to_string(v + 1);
    if (st) st = store->exec(set_version.c_str());
    if (st) st = store->exec("COMMIT");
    if (!st) {
      store->rollback();
      return st;
    }
  }
  store->keep_reserve();
  opened.store = std::move(store);
  return opened;
}

SqliteEventStore::SqliteEventStore(sqlite3* db, std::string path)
    : db_(db), path_(std::move(path)) {
  // In place of SQLite's automatic checkpoint (the same thing at 1000 pages), so that the store
  // knows what the WAL holds that is not in the database file yet.
  sqlite3_wal_hook(
      db_,
      [](void* self, sqlite3*, const char*, int pages) {
        auto* store = static_cast<SqliteEventStore*>(self);
        store->wal_unwritten_pages_ = pages;
        if (pages >= kWalAutoCheckpointPages) (void)store->checkpoint(SQLITE_CHECKPOINT_PASSIVE);
        return SQLITE_OK;
      },
      this);
}

bool SqliteEventStore::checkpoint(int mode) {
  int pages = 0, copied = 0;
  int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, mode, &pages, &copied);
  if (rc == SQLITE_OK) {
    wal_unwritten_pages_ = pages > copied ? pages - copied : 0;
    checkpoint_needs_room_ = false;
    return wal_unwritten_pages_ == 0;
  }
  // Only a full disk makes the WAL wait; a reader or a busy lock is tried again at the next one.
  checkpoint_needs_room_ = (rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_IOERR ||
                           is_disk_full_errno(sqlite3_system_errno(db_));
  return false;
}

bool SqliteEventStore::wal_has_room() {
  if (!checkpoint_needs_room_ || wal_unwritten_pages_ < kWalAutoCheckpointPages) return true;
  if (checkpoint(SQLITE_CHECKPOINT_TRUNCATE)) return true;
  // The user's deletion frees the pages of every event: worth the reserve.
  if (deletion_pending_ && release_reserve()) return checkpoint(SQLITE_CHECKPOINT_TRUNCATE);
  return false;
}

bool SqliteEventStore::release_reserve() {
  std::error_code ec;
  const bool removed = std::filesystem::remove(reserve_path(path_), ec);
  if (removed) reserve_present_ = false;
  return removed;
}

SqliteEventStore::~SqliteEventStore() {
  statements_.clear();
  sqlite3_close(db_);
}

Status SqliteEventStore::error(const char* what) {
  if (sqlite3_errcode(db_) == SQLITE_FULL || is_disk_full_errno(sqlite3_system_errno(db_))) {
    disk_full_ = true;
  }
  return Status::error("storage_error", std::string(what) + ": " + sqlite3_errmsg(db_));
}

Status SqliteEventStore::exec(const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    if (sqlite3_errcode(db_) == SQLITE_FULL || is_disk_full_errno(sqlite3_system_errno(db_))) {
      disk_full_ = true;
    }
    std::string text = msg ? msg : "unknown error";
    sqlite3_free(msg);
    return Status::error("storage_error", text);
  }
  return Status::ok();
}

SqliteEventStore::Statement& SqliteEventStore::prepared(const char* sql) {
  // Keyed by the literal's address: the same text always comes from the same literal.
  auto& slot = statements_[sql];
  // One that failed to prepare (the database was busy or damaged) is tried again.
  if (!slot || !slot->prepared()) slot = std::make_unique<Statement>(db_, sql);
  return *slot;
}

Status SqliteEventStore::begin() {
  messages_ = 0;
  deletion_in_transaction_ = false;
  // The transaction runs either way (its tasks must hear how it ended), but a WAL that cannot be
  // checkpointed for lack of space takes no more frames: it would only take the last free bytes.
  refuse_commit_ = !wal_has_room();
  Status st = exec("BEGIN IMMEDIATE");
  if (st && deletion_pending_) apply_local_deletion();
  return st;
}
Status SqliteEventStore::begin_read() {
  messages_ = 0;
  deletion_in_transaction_ = false;
  return exec("BEGIN DEFERRED");
}
Status SqliteEventStore::commit() {
  const bool wrote = deletion_in_transaction_ || messages_ > 0;
  if (refuse_commit_ && !sqlite3_get_autocommit(db_)) {
    refuse_commit_ = false;
    disk_full_ = true;
    return Status::error("storage_error",
                         "disk full: the database's journal holds " +
                             std::to_string(wal_unwritten_pages_) +
                             " pages that the database file has no room for; free some space in " +
                             std::filesystem::path(path_).parent_path().string());
  }
  Status st = exec("COMMIT");
  if (!st) return st;
  if (deletion_in_transaction_) {
    deletion_pending_ = false;
    deletion_in_transaction_ = false;
  }
  if (wrote && !reserve_present_) keep_reserve();
  return st;
}
void SqliteEventStore::rollback() {
  if (!sqlite3_get_autocommit(db_)) (void)exec("ROLLBACK");
  totals_known_ = false;
  deletion_in_transaction_ = false;
  if (disk_full_) make_room_after_failure();
}

void SqliteEventStore::apply_local_deletion() {
  Statement& events = prepared("DELETE FROM events WHERE id <= ?1");
  ResetOnExit reset(events);
  events.bind(1, hidden_through_id_);
  totals_known_ = false;
  if (events.step() != SQLITE_DONE) {
    (void)error("delete events");
    return;
  }
  Statement& usage = prepared("DELETE FROM usage_weeks");
  ResetOnExit reset_usage(usage);
  if (usage.step() != SQLITE_DONE) {
    (void)error("delete usage");
    return;
  }
  deletion_in_transaction_ = true;
}

void SqliteEventStore::make_room_after_failure() {
  disk_full_ = false;
  // Copies what the WAL holds into the database and empties the WAL, when the database file
  // has room to grow; then the WAL's space is free again. A failure leaves everything as it was.
  if (checkpoint(SQLITE_CHECKPOINT_TRUNCATE)) return;
  checkpoint_needs_room_ = true;
  if (deletion_pending_ && release_reserve()) (void)checkpoint(SQLITE_CHECKPOINT_TRUNCATE);
}

void SqliteEventStore::keep_reserve() {
  const std::string reserve = reserve_path(path_);
  std::error_code ec;
  if (std::filesystem::file_size(reserve, ec) == static_cast<std::uintmax_t>(kReserveBytes)) {
    reserve_present_ = true;
    return;
  }
  // Only with room for it twice over: the reserve must not be what fills the disk.
  if (disk_has_less_than(path_, 2 * static_cast<std::uintmax_t>(kReserveBytes))) return;
  {
    std::ofstream out(reserve, std::ios::binary | std::ios::trunc);
    const std::string block(64 * 1024, '\0');
    for (std::int64_t done = 0; out && done < kReserveBytes;
         done += static_cast<std::int64_t>(block.size())) {
      out.write(block.data(), static_cast<std::streamsize>(block.size()));
    }
    out.flush();
    reserve_present_ = static_cast<bool>(out);
  }
  if (!reserve_present_) std::filesystem::remove(reserve, ec);
}

Status SqliteEventStore::append(std::int64_t created_ms, const std::string& event_type,
                                const std::string& app, const std::string& body) {
  Statement& s = prepared(
      "INSERT INTO events (created_ms, event_type, body, bytes, app) VALUES (?1, ?2, ?3, ?4, ?5)");
  ResetOnExit reset(s);
  s.bind(1, created_ms);
  s.bind(2, event_type);
  s.bind(3, body);
  s.bind(4, static_cast<std::int64_t>(body.size()));
  s.bind(5, app);
  if (s.step() != SQLITE_DONE) return error("insert event");
  ++messages_;
  if (totals_known_) {
    ++total_events_;
    total_bytes_ += static_cast<std::int64_t>(body.size());
  }
  return Status::ok();
}

namespace {

template <typename S>
Result<std::vector<StoredEvent>> read_events(S& s, Status (*fail)(void*), void* ctx) {
  std::vector<StoredEvent> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    out.push_back(
        StoredEvent{s.int_col(0), s.int_col(1), s.text_col(2), s.text_col(3), s.int_col(4) != 0});
  }
  if (rc != SQLITE_DONE) return fail(ctx);
  return out;
}

}  // namespace

Result<std::vector<StoredEvent>> SqliteEventStore::newest(std::int64_t limit,
                                                          std::optional<std::int64_t> since_ms) {
  Statement& s = prepared(
      "SELECT id, created_ms, event_type, body, sent FROM events WHERE created_ms >= ?1 "
      "AND id > ?3 ORDER BY id DESC LIMIT ?2");
  ResetOnExit reset(s);
  s.bind(1, since_ms.value_or(INT64_MIN));
  s.bind(2, limit);
  s.bind(3, deletion_pending_ ? hidden_through_id_ : 0);
  return read_events(
      s, [](void* self) { return static_cast<SqliteEventStore*>(self)->error("read events"); },
      this);
}

Result<std::vector<StoredEvent>> SqliteEventStore::all() {
  Statement& s = prepared(
      "SELECT id, created_ms, event_type, body, sent FROM events WHERE id > ?1 ORDER BY id ASC");
  ResetOnExit reset(s);
  s.bind(1, deletion_pending_ ? hidden_through_id_ : 0);
  return read_events(
      s, [](void* self) { return static_cast<SqliteEventStore*>(self)->error("read events"); },
      this);
}

Result<QueueStats> SqliteEventStore::stats() {
  Statement& s = prepared(
      "SELECT COALESCE(SUM(sent = 0), 0), COALESCE(SUM(sent != 0), 0), COALESCE(SUM(bytes), 0) "
      "FROM events WHERE id > ?1");
  ResetOnExit reset(s);
  s.bind(1, deletion_pending_ ? hidden_through_id_ : 0);
  if (s.step() != SQLITE_ROW) return error("count events");
  return QueueStats{s.int_col(0), s.int_col(1), s.int_col(2)};
}

Result<std::map<std::string, QueueStats>> SqliteEventStore::app_stats() {
  Statement& s = prepared(
      "SELECT app, COALESCE(SUM(sent = 0), 0), COALESCE(SUM(sent != 0), 0), "
      "COALESCE(SUM(bytes), 0) FROM events WHERE id > ?1 GROUP BY app");
  ResetOnExit reset(s);
  s.bind(1, deletion_pending_ ? hidden_through_id_ : 0);
  std::map<std::string, QueueStats> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    out[s.text_col(0)] = QueueStats{s.int_col(1), s.int_col(2), s.int_col(3)};
  }
  if (rc != SQLITE_DONE) return error("count events per app");
  return out;
}

Result<std::int64_t> SqliteEventStore::count_since(std::optional<std::int64_t> since_ms) {
  Statement& s = prepared("SELECT COUNT(*) FROM events WHERE created_ms >= ?1 AND id > ?2");
  ResetOnExit reset(s);
  s.bind(1, since_ms.value_or(INT64_MIN));
  s.bind(2, deletion_pending_ ? hidden_through_id_ : 0);
  if (s.step() != SQLITE_ROW) return error("count events");
  return s.int_col(0);
}

Result<std::int64_t> SqliteEventStore::delete_unsent_of_app(const std::string& app) {
  Statement& s = prepared("DELETE FROM events WHERE sent = 0 AND app = ?1");
  ResetOnExit reset(s);
  s.bind(1, app);
  totals_known_ = false;
  if (s.step() != SQLITE_DONE) return error("delete an app's unsent events");
  return static_cast<std::int64_t>(sqlite3_changes(db_));
}

Result<std::int64_t> SqliteEventStore::delete_all() {
  Statement& s = prepared("DELETE FROM events");
  ResetOnExit reset(s);
  totals_known_ = false;
  if (s.step() != SQLITE_DONE) return error("delete events");
  return static_cast<std::int64_t>(sqlite3_changes(db_));
}

Result<std::int64_t> SqliteEventStore::delete_local_log() {
  std::int64_t count = 0, last_id = 0;
  {
    Statement& s = prepared("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM events WHERE id > ?1");
    ResetOnExit reset(s);
    s.bind(1, deletion_pending_ ? hidden_through_id_ : 0);
    if (s.step() != SQLITE_ROW) return error("count events");
    count = s.int_col(0);
    last_id = s.int_col(1);
  }
  // In effect from here on, whatever the disk does; written with this transaction or a later one.
  hidden_through_id_ = std::max(hidden_through_id_, last_id);
  deletion_pending_ = true;
  if (!sqlite3_get_autocommit(db_)) apply_local_deletion();
  return count;
}

Result<std::int64_t> SqliteEventStore::delete_unsent(const std::optional<std::string>& event_type) {
  Statement& s = prepared("DELETE FROM events WHERE sent = 0 AND (?1 IS NULL OR event_type = ?1)");
  ResetOnExit reset(s);
  if (event_type) s.bind(1, *event_type);
  totals_known_ = false;
  if (s.step() != SQLITE_DONE) return error("delete unsent events");
  return static_cast<std::int64_t>(sqlite3_changes(db_));
}

Result<std::int64_t> SqliteEventStore::remove_unsent_field(const std::string& event_type,
                                                           const std::string& json_path) {
  Statement& s = prepared(
      "UPDATE events SET body = json_remove(body, ?2), bytes = length(json_remove(body, ?2)) "
      "WHERE sent = 0 AND event_type = ?1 AND json_type(body, ?2) IS NOT NULL");
  ResetOnExit reset(s);
  s.bind(1, event_type);
  s.bind(2, json_path);
  totals_known_ = false;
  if (s.step() != SQLITE_DONE) return error("remove a field from unsent events");
  return static_cast<std::int64_t>(sqlite3_changes(db_));
}

Result<Eviction> SqliteEventStore::evict_older_than(std::int64_t cutoff_ms) {
  Eviction e;
  {
    Statement& s = prepared(
        "SELECT COUNT(*), COALESCE(SUM(sent = 0), 0) FROM events "
        "WHERE created_ms < ?1");
    ResetOnExit reset(s);
    s.bind(1, cutoff_ms);
    if (s.step() != SQLITE_ROW) return error("count old events");
    e.removed = s.int_col(0);
    e.removed_unsent = s.int_col(1);
  }
  if (e.removed == 0) return e;
  Statement& s = prepared("DELETE FROM events WHERE created_ms < ?1");
  ResetOnExit reset(s);
  s.bind(1, cutoff_ms);
  totals_known_ = false;
  if (s.step() != SQLITE_DONE) return error("evict old events");
  return e;
}

Result<Eviction> SqliteEventStore::evict_to_fit(std::int64_t max_events, std::int64_t max_bytes) {
  Eviction e;
  // The totals are counted once and then kept up to date by append(); anything else that
  // changes the table makes them count again here.
  if (!totals_known_) {
    Statement& s = prepared("SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM events");
    ResetOnExit reset(s);
    if (s.step() != SQLITE_ROW) return error("count events");
    total_events_ = s.int_col(0);
    total_bytes_ = s.int_col(1);
    totals_known_ = true;
  }
  std::int64_t count = total_events_, bytes = total_bytes_;
  if (count <= max_events && bytes <= max_bytes) return e;
  // Walk from the oldest until what remains fits, then delete up to that id in one statement.
  std::int64_t last_id = -1;
  {
    Statement& s = prepared("SELECT id, bytes, sent FROM events ORDER BY id ASC");
    ResetOnExit reset(s);
    while ((count > max_events || bytes > max_bytes) && s.step() == SQLITE_ROW) {
      last_id = s.int_col(0);
      bytes -= s.int_col(1);
      --count;
      ++e.removed;
      if (s.int_col(2) == 0) ++e.removed_unsent;
    }
  }
  if (last_id < 0) return e;
  Statement& s = prepared("DELETE FROM events WHERE id <= ?1");
  ResetOnExit reset(s);
  s.bind(1, last_id);
  if (s.step() != SQLITE_DONE) {
    totals_known_ = false;
    return error("evict events over the size cap");
  }
  total_events_ = count;
  total_bytes_ = bytes;
  return e;
}

Result<std::map<std::string, std::int64_t>> SqliteEventStore::load_counters() {
  Statement& s = prepared("SELECT name, value FROM counters");
  ResetOnExit reset(s);
  std::map<std::string, std::int64_t> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) out[s.text_col(0)] = s.int_col(1);
  if (rc != SQLITE_DONE) return error("read counters");
  return out;
}

Status SqliteEventStore::save_counters(const std::map<std::string, std::int64_t>& counters) {
  Statement& s = prepared(
      "INSERT INTO counters (name, value) VALUES (?1, ?2) "
      "ON CONFLICT(name) DO UPDATE SET value = excluded.value");
  for (const auto& [name, value] : counters) {
    ResetOnExit reset(s);
    s.bind(1, name);
    s.bind(2, value);
    if (s.step() != SQLITE_DONE) return error("save counters");
  }
  return Status::ok();
}

namespace {

// usage_weeks keeps a key in one column, "<week_start>|<app>" (schema 1 named it week_start);
// these two are the only places that know the encoding. An app name never holds '|'.
std::string usage_key_column(const UsageKey& key) {
  return key.week_start + "|" + key.app;
}
UsageKey usage_key_from_column(const std::string& column) {
  auto bar = column.find('|');
  if (bar == std::string::npos) return {column, ""};
  return {column.substr(0, bar), column.substr(bar + 1)};
}

}  // namespace

Result<std::map<UsageKey, std::string>> SqliteEventStore::usage_weeks() {
  std::map<UsageKey, std::string> out;
  // Every total on disk predates a local deletion that is not committed yet.
  if (deletion_pending_ && !deletion_in_transaction_) return out;
  Statement& s = prepared("SELECT week_start, data FROM usage_weeks");
  ResetOnExit reset(s);
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) out[usage_key_from_column(s.text_col(0))] = s.text_col(1);
  if (rc != SQLITE_DONE) return error("read usage");
  return out;
}

Result<std::optional<std::string>> SqliteEventStore::usage_week(const UsageKey& key) {
  if (deletion_pending_ && !deletion_in_transaction_) return std::optional<std::string>();
  Statement& s = prepared("SELECT data FROM usage_weeks WHERE week_start = ?1");
  ResetOnExit reset(s);
  s.bind(1, usage_key_column(key));
  int rc = s.step();
  if (rc == SQLITE_ROW) return std::optional<std::string>(s.text_col(0));
  if (rc != SQLITE_DONE) return error("read usage");
  return std::optional<std::string>();
}

Status SqliteEventStore::put_usage_week(const UsageKey& key, const std::string& data) {
  Statement& s = prepared(
      "INSERT INTO usage_weeks (week_start, data) VALUES (?1, ?2) "
      "ON CONFLICT(week_start) DO UPDATE SET data = excluded.data");
  ResetOnExit reset(s);
  s.bind(1, usage_key_column(key));
  s.bind(2, data);
  if (s.step() != SQLITE_DONE) return error("save usage");
  ++messages_;
  return Status::ok();
}

Status SqliteEventStore::delete_usage_week(const UsageKey& key) {
  Statement& s = prepared("DELETE FROM usage_weeks WHERE week_start = ?1");
  ResetOnExit reset(s);
  s.bind(1, usage_key_column(key));
  return s.step() == SQLITE_DONE ? Status::ok() : error("delete usage week");
}

Status SqliteEventStore::delete_usage_of_app(const std::string& app) {
  auto weeks = usage_weeks();
  if (!weeks) return weeks.status();
  for (const auto& [key, data] : *weeks) {
    if (key.app != app) continue;
    if (Status st = delete_usage_week(key); !st) return st;
  }
  return Status::ok();
}

Status SqliteEventStore::delete_all_usage() {
  Statement& s = prepared("DELETE FROM usage_weeks");
  ResetOnExit reset(s);
  return s.step() == SQLITE_DONE ? Status::ok() : error("delete usage");
}

}  // namespace dollhouse::daemon
