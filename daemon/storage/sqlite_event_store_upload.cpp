// The upload side of the SQLite event store: batches, named values, remote deletions.
#include <sqlite3.h>

#include "daemon/storage/sqlite_event_store.hpp"
#include "daemon/storage/sqlite_statement.hpp"

namespace dollhouse::daemon {

Result<UploadBatch> SqliteEventStore::take_batch(std::int64_t max_events, std::int64_t max_bytes,
                                                 const std::string& new_batch_id) {
  UploadBatch batch;
  {
    Statement& s = prepared(
        "SELECT batch_id FROM events INDEXED BY events_open_batch "
        "WHERE sent = 0 AND batch_id IS NOT NULL AND id > ?1 ORDER BY id LIMIT 1");
    ResetOnExit reset(s);
    s.bind(1, deletion_pending_ ? hidden_through_id_ : 0);
    int rc = s.step();
    if (rc == SQLITE_ROW)
      batch.batch_id = s.text_col(0);
    else if (rc != SQLITE_DONE)
      return error("find the open batch");
  }
  if (!batch.batch_id.empty()) {
    Statement& s = prepared(
        "SELECT body FROM events WHERE sent = 0 AND batch_id = ?1 AND id > ?2 ORDER BY id");
    ResetOnExit reset(s);
    s.bind(1, batch.batch_id);
    s.bind(2, deletion_pending_ ? hidden_through_id_ : 0);
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      batch.bodies.push_back(s.text_col(0));
      batch.bytes += static_cast<std::int64_t>(batch.bodies.back().size());
    }
    if (rc != SQLITE_DONE) return error("read the open batch");
    return batch;
  }
  std::int64_t last_id = -1;
  {
    Statement& s = prepared(
        "SELECT id, body FROM events WHERE sent = 0 AND batch_id IS NULL AND id > ?2 ORDER BY id "
        "LIMIT ?1");
    ResetOnExit reset(s);
    s.bind(1, max_events);
    s.bind(2, deletion_pending_ ? hidden_through_id_ : 0);
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      std::string body = s.text_col(1);
      auto size = static_cast<std::int64_t>(body.size());
      if (!batch.bodies.empty() && batch.bytes + size > max_bytes) break;
      last_id = s.int_col(0);
      batch.bytes += size;
      batch.bodies.push_back(std::move(body));
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return error("read unsent events");
  }
  if (last_id < 0) return batch;
  Statement& s =
      prepared("UPDATE events SET batch_id = ?1 WHERE sent = 0 AND batch_id IS NULL AND id <= ?2");
  ResetOnExit reset(s);
  s.bind(1, new_batch_id);
  s.bind(2, last_id);
  if (s.step() != SQLITE_DONE) return error("form a batch");
  batch.batch_id = new_batch_id;
  return batch;
}

Result<std::int64_t> SqliteEventStore::mark_batch_sent(const std::string& batch_id) {
  Statement& s = prepared("UPDATE events SET sent = 1 WHERE batch_id = ?1 AND sent = 0");
  ResetOnExit reset(s);
  s.bind(1, batch_id);
  if (s.step() != SQLITE_DONE) return error("mark a batch sent");
  return static_cast<std::int64_t>(sqlite3_changes(db_));
}

Result<std::int64_t> SqliteEventStore::drop_batch(const std::string& batch_id) {
  Statement& s = prepared("DELETE FROM events WHERE batch_id = ?1 AND sent = 0");
  ResetOnExit reset(s);
  s.bind(1, batch_id);
  totals_known_ = false;
  if (s.step() != SQLITE_DONE) return error("drop a batch");
  return static_cast<std::int64_t>(sqlite3_changes(db_));
}

Result<std::optional<std::string>> SqliteEventStore::get_value(const std::string& key) {
  Statement& s = prepared("SELECT value FROM kv WHERE key = ?1");
  ResetOnExit reset(s);
  s.bind(1, key);
  int rc = s.step();
  if (rc == SQLITE_ROW) return std::optional<std::string>(s.text_col(0));
  if (rc != SQLITE_DONE) return error("read a value");
  return std::optional<std::string>();
}

Status SqliteEventStore::put_value(const std::string& key, const std::string& value) {
  Statement& s = prepared(
      "INSERT INTO kv (key, value) VALUES (?1, ?2) "
      "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  ResetOnExit reset(s);
  s.bind(1, key);
  s.bind(2, value);
  return s.step() == SQLITE_DONE ? Status::ok() : error("save a value");
}

Status SqliteEventStore::add_deletion(const std::string& install_id, std::int64_t requested_ms) {
  Statement& s = prepared(
      "INSERT INTO deletions (install_id, requested_ms) VALUES (?1, ?2) "
      "ON CONFLICT(install_id) DO NOTHING");
  ResetOnExit reset(s);
  s.bind(1, install_id);
  s.bind(2, requested_ms);
  return s.step() == SQLITE_DONE ? Status::ok() : error("queue a remote deletion");
}

Result<std::vector<PendingDeletion>> SqliteEventStore::pending_deletions() {
  Statement& s = prepared("SELECT install_id, requested_ms FROM deletions ORDER BY requested_ms");
  ResetOnExit reset(s);
  std::vector<PendingDeletion> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) out.push_back({s.text_col(0), s.int_col(1)});
  if (rc != SQLITE_DONE) return error("read remote deletions");
  return out;
}

Status SqliteEventStore::finish_deletion(const std::string& install_id) {
  Statement& s = prepared("DELETE FROM deletions WHERE install_id = ?1");
  ResetOnExit reset(s);
  s.bind(1, install_id);
  return s.step() == SQLITE_DONE ? Status::ok() : error("finish a remote deletion");
}

}  // namespace dollhouse::daemon
