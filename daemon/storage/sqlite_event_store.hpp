// EventStore in a SQLite file: WAL journal, synchronous=FULL (a committed transaction survives
// a crash of the process or the machine), schema versioned with PRAGMA user_version and
// migrated forward on open, prepared statements cached, parameters always bound.
//
// open() never fails because of the file's own content: a file that is not a database, one that
// fails its integrity check, or a directory (or another kind of non-regular file, a symlink
// excepted) at its path is renamed aside (telemetry.db.corrupt-<time>) and a fresh database is
// created; `recovered_from` then says where the old one went. A symlink at the path is never
// followed ("io_error"); a database written by a newer schema is refused and left alone
// ("unsupported_schema").
//
// A full disk: the WAL is bounded (kWalAutoCheckpointPages, kWalSizeLimitBytes), a failed
// write transaction is followed by a checkpoint attempt so that the WAL's space is reused once
// the database file can grow (writes are refused while it cannot), and the store keeps a reserve
// file of kReserveBytes (telemetry.db-reserve) that it deletes to make room: to open on a full
// disk, and to complete the user's local deletion (delete_local_log), which then frees the pages of
// every event. The reserve is made again once the file system has twice its size free.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "daemon/storage/event_store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace dollhouse::daemon {

class SqliteEventStore final : public EventStore {
 public:
  struct Opened;
  // `now_ms` names a corrupt file moved aside.
  static Result<Opened> open(const std::string& path, std::int64_t now_ms);
  ~SqliteEventStore() override;

  Status begin() override;
  Status begin_read() override;
  Status commit() override;
  void rollback() override;
  Status append(std::int64_t created_ms, const std::string& event_type, const std::string& app,
                const std::string& body) override;
  Result<std::vector<StoredEvent>> newest(std::int64_t limit,
                                          std::optional<std::int64_t> since_ms) override;
  Result<std::vector<StoredEvent>> all() override;
  Result<QueueStats> stats() override;
  Result<std::map<std::string, QueueStats>> app_stats() override;
  Result<std::int64_t> count_since(std::optional<std::int64_t> since_ms) override;
  Result<std::int64_t> delete_unsent_of_app(const std::string& app) override;
  Result<std::int64_t> delete_all() override;
  Result<std::int64_t> delete_local_log() override;
  bool local_deletion_pending() const override { return deletion_pending_; }
  std::int64_t messages_in_transaction() const override { return messages_; }
  Result<std::int64_t> delete_unsent(const std::optional<std::string>& event_type) override;
  Result<std::int64_t> remove_unsent_field(const std::string& event_type,
                                           const std::string& json_path) override;
  Result<Eviction> evict_older_than(std::int64_t cutoff_ms) override;
  Result<Eviction> evict_to_fit(std::int64_t max_events, std::int64_t max_bytes) override;
  Result<std::map<std::string, std::int64_t>> load_counters() override;
  Status save_counters(const std::map<std::string, std::int64_t>& counters) override;
  Result<UploadBatch> take_batch(std::int64_t max_events, std::int64_t max_bytes,
                                 const std::string& new_batch_id) override;
  Result<std::int64_t> mark_batch_sent(const std::string& batch_id) override;
  Result<std::int64_t> drop_batch(const std::string& batch_id) override;
  Result<std::optional<std::string>> get_value(const std::string& key) override;
  Status put_value(const std::string& key, const std::string& value) override;
  Status add_deletion(const std::string& install_id, std::int64_t requested_ms) override;
  Result<std::vector<PendingDeletion>> pending_deletions() override;
  Status finish_deletion(const std::string& install_id) override;
  Result<std::map<UsageKey, std::string>> usage_weeks() override;
  Result<std::optional<std::string>> usage_week(const UsageKey& key) override;
  Status put_usage_week(const UsageKey& key, const std::string& data) override;
  Status delete_usage_week(const UsageKey& key) override;
  Status delete_all_usage() override;
  Status delete_usage_of_app(const std::string& app) override;

  // The schema version this code writes.
  static constexpr int kSchemaVersion = 4;
  // The WAL is checkpointed into the database once it holds this many pages (4 KiB each)
  // after a commit (SQLite's own default is 1000): the WAL stays small against a small disk.
  // While a full disk keeps that many out of the database file, writes are refused rather than
  // let the WAL take the last free bytes.
  static constexpr int kWalAutoCheckpointPages = 128;
  // A WAL that grew past this (one large transaction) is cut back to it when it is reused.
  static constexpr std::int64_t kWalSizeLimitBytes = 512 * 1024;
  // The file kept beside the database and deleted to make room on a full disk: enough for a
  // checkpoint of a WAL at kWalAutoCheckpointPages and the frames of a deletion.
  static constexpr std::int64_t kReserveBytes = 512 * 1024;

 private:
  class Statement;
  SqliteEventStore(sqlite3* db, std::string path);
  Status exec(const char* sql);
  Status error(const char* what);
  Statement& prepared(const char* sql);
  // Runs the pending local deletion inside the open write transaction.
  void apply_local_deletion();
  // After a failed write: tries a checkpoint so that the WAL's space can be used again, and
  // deletes the reserve for it when a local deletion waits for room.
  void make_room_after_failure();
  // Copies the WAL into the database file; whether all of it is there now.
  bool checkpoint(int mode);
  // Whether the WAL may take more frames: false while it holds kWalAutoCheckpointPages or more
  // that a full disk keeps out of the database file.
  bool wal_has_room();
  bool release_reserve();
  // Makes the reserve file when it is missing and the disk has room for it twice over.
  void keep_reserve();

  sqlite3* db_;
  std::string path_;
  std::unordered_map<const char*, std::unique_ptr<Statement>> statements_;
  // The number and bytes of all events in the table (evict_to_fit), while totals_known_.
  bool totals_known_ = false;
  std::int64_t total_events_ = 0;
  std::int64_t total_bytes_ = 0;
  // A local deletion is in effect but not committed: reads leave out the events with an id up
  // to hidden_through_id_ (ids only grow) and every usage total.
  bool deletion_pending_ = false;
  std::int64_t hidden_through_id_ = 0;
  // The pending local deletion ran in the open write transaction.
  bool deletion_in_transaction_ = false;
  std::int64_t messages_ = 0;
  // A statement or commit failed because the disk is full, since the last rollback.
  bool disk_full_ = false;
  bool reserve_present_ = false;
  // Pages in the WAL not yet copied into the database file, as of the last commit or checkpoint.
  int wal_unwritten_pages_ = 0;
  // The last checkpoint failed for lack of space.
  bool checkpoint_needs_room_ = false;
  // This transaction may not commit: the WAL has no room (wal_has_room).
  bool refuse_commit_ = false;
};

struct SqliteEventStore::Opened {
  std::unique_ptr<SqliteEventStore> store;
  std::string recovered_from;  // non-empty when a corrupt file was moved aside
};

}  // namespace dollhouse::daemon
