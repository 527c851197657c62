#include "daemon/storage/sqlite_event_store.hpp"
#include "daemon/storage/sqlite_statement.hpp"

#include <sqlite3.h>

#include <cstdio>
#include <filesystem>
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
sqlite3* open_checked(const std::string& path, bool& corrupt, std::string& error) {
  corrupt = false;
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_FULLMUTEX,
      nullptr);
  if (rc != SQLITE_OK) {
    error = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, 5000);
  char* msg = nullptr;
  rc =
      sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", nullptr, nullptr, &msg);
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
    error = msg ? msg : (check.empty() ? sqlite3_errstr(rc) : check);
    sqlite3_free(msg);
    sqlite3_close(db);
    if (!corrupt && (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT)) corrupt = true;
    return nullptr;
  }
  return db;
}

}  // namespace

Result<SqliteEventStore::Opened> SqliteEventStore::open(const std::string& path,
                                                        std::int64_t now_ms) {
  Opened opened;
  bool corrupt = false;
  std::string error;
  sqlite3* db = nullptr;
  if (is_neither_file_nor_link(path)) {
    corrupt = true;  // a directory where the database belongs: as damaged as a bad file
  } else {
    db = open_checked(path, corrupt, error);
  }
  if (db == nullptr && corrupt) {
    std::string aside = path + ".corrupt-" + std::to_string(now_ms);
    if (!move_aside(path, aside)) {
      return Status::error("io_error", "database " + path +
                                           " is damaged and cannot be moved "
                                           "aside; remove it by hand");
    }
    opened.recovered_from = aside;
    db = open_checked(path, corrupt, error);
  }
  if (db == nullptr) {
    return Status::error("io_error", "cannot open database " + path + ": " + error);
  }
  std::unique_ptr<SqliteEventStore> store(new SqliteEventStore(db));
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
  opened.store = std::move(store);
  return opened;
}

SqliteEventStore::SqliteEventStore(sqlite3* db) : db_(db) {}

SqliteEventStore::~SqliteEventStore() {
  statements_.clear();
  sqlite3_close(db_);
}

Status SqliteEventStore::error(const char* what) const {
  return Status::error("storage_error", std::string(what) + ": " + sqlite3_errmsg(db_));
}

Status SqliteEventStore::exec(const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string text = msg ? msg : "unknown error";
    sqlite3_free(msg);
    return Status::error("storage_error", text);
  }
  return Status::ok();
}

SqliteEventStore::Statement& SqliteEventStore::prepared(const char* sql) {
  auto& slot = statements_[sql];
  // One that failed to prepare (the database was busy or damaged) is tried again.
  if (!slot || !slot->prepared()) slot = std::make_unique<Statement>(db_, sql);
  return *slot;
}

Status SqliteEventStore::begin() {
  return exec("BEGIN IMMEDIATE");
}
Status SqliteEventStore::begin_read() {
  return exec("BEGIN DEFERRED");
}
Status SqliteEventStore::commit() {
  return exec("COMMIT");
}
void SqliteEventStore::rollback() {
  if (!sqlite3_get_autocommit(db_)) (void)exec("ROLLBACK");
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
  return s.step() == SQLITE_DONE ? Status::ok() : error("insert event");
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
      "ORDER BY id DESC LIMIT ?2");
  ResetOnExit reset(s);
  s.bind(1, since_ms.value_or(INT64_MIN));
  s.bind(2, limit);
  return read_events(
      s, [](void* self) { return static_cast<SqliteEventStore*>(self)->error("read events"); },
      this);
}

Result<std::vector<StoredEvent>> SqliteEventStore::all() {
  Statement& s =
      prepared("SELECT id, created_ms, event_type, body, sent FROM events ORDER BY id ASC");
  ResetOnExit reset(s);
  return read_events(
      s, [](void* self) { return static_cast<SqliteEventStore*>(self)->error("read events"); },
      this);
}

Result<QueueStats> SqliteEventStore::stats() {
  Statement& s = prepared(
      "SELECT COALESCE(SUM(sent = 0), 0), COALESCE(SUM(sent != 0), 0), COALESCE(SUM(bytes), 0) "
      "FROM events");
  ResetOnExit reset(s);
  if (s.step() != SQLITE_ROW) return error("count events");
  return QueueStats{s.int_col(0), s.int_col(1), s.int_col(2)};
}

Result<std::map<std::string, QueueStats>> SqliteEventStore::app_stats() {
  Statement& s = prepared(
      "SELECT app, COALESCE(SUM(sent = 0), 0), COALESCE(SUM(sent != 0), 0), "
      "COALESCE(SUM(bytes), 0) FROM events GROUP BY app");
  ResetOnExit reset(s);
  std::map<std::string, QueueStats> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    out[s.text_col(0)] = QueueStats{s.int_col(1), s.int_col(2), s.int_col(3)};
  }
  if (rc != SQLITE_DONE) return error("count events per app");
  return out;
}

Result<std::int64_t> SqliteEventStore::count_since(std::optional<std::int64_t> since_ms) {
  Statement& s = prepared("SELECT COUNT(*) FROM events WHERE created_ms >= ?1");
  ResetOnExit reset(s);
  s.bind(1, since_ms.value_or(INT64_MIN));
  if (s.step() != SQLITE_ROW) return error("count events");
  return s.int_col(0);
}

Result<std::int64_t> SqliteEventStore::delete_unsent_of_app(const std::string& app) {
  Statement& s = prepared("DELETE FROM events WHERE sent = 0 AND app = ?1");
  ResetOnExit reset(s);
  s.bind(1, app);
  if (s.step() != SQLITE_DONE) return error("delete an app's unsent events");
  return static_cast<std::int64_t>(sqlite3_changes(db_));
}

Result<std::int64_t> SqliteEventStore::delete_all() {
  Statement& s = prepared("DELETE FROM events");
  ResetOnExit reset(s);
  if (s.step() != SQLITE_DONE) return error("delete events");
  return static_cast<std::int64_t>(sqlite3_changes(db_));
}

Result<std::int64_t> SqliteEventStore::delete_unsent(const std::optional<std::string>& event_type) {
  Statement& s = prepared("DELETE FROM events WHERE sent = 0 AND (?1 IS NULL OR event_type = ?1)");
  ResetOnExit reset(s);
  if (event_type) s.bind(1, *event_type);
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
  if (s.step() != SQLITE_DONE) return error("evict old events");
  return e;
}

Result<Eviction> SqliteEventStore::evict_to_fit(std::int64_t max_events, std::int64_t max_bytes) {
  Eviction e;
  std::int64_t count = 0, bytes = 0;
  {
    Statement& s = prepared("SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM events");
    ResetOnExit reset(s);
    if (s.step() != SQLITE_ROW) return error("count events");
    count = s.int_col(0);
    bytes = s.int_col(1);
  }
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
  if (s.step() != SQLITE_DONE) return error("evict events over the size cap");
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
  Statement& s = prepared("SELECT week_start, data FROM usage_weeks");
  ResetOnExit reset(s);
  std::map<UsageKey, std::string> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) out[usage_key_from_column(s.text_col(0))] = s.text_col(1);
  if (rc != SQLITE_DONE) return error("read usage");
  return out;
}

Status SqliteEventStore::put_usage_week(const UsageKey& key, const std::string& data) {
  Statement& s = prepared(
      "INSERT INTO usage_weeks (week_start, data) VALUES (?1, ?2) "
      "ON CONFLICT(week_start) DO UPDATE SET data = excluded.data");
  ResetOnExit reset(s);
  s.bind(1, usage_key_column(key));
  s.bind(2, data);
  return s.step() == SQLITE_DONE ? Status::ok() : error("save usage");
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
