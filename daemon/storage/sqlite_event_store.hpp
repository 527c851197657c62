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
#pragma once

#include <memory>
#include <string>

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
  Status put_usage_week(const UsageKey& key, const std::string& data) override;
  Status delete_usage_week(const UsageKey& key) override;
  Status delete_all_usage() override;
  Status delete_usage_of_app(const std::string& app) override;

  // The schema version this code writes.
  static constexpr int kSchemaVersion = 3;

 private:
  class Statement;
  explicit SqliteEventStore(sqlite3* db);
  Status exec(const char* sql);
  Status error(const char* what) const;
  Statement& prepared(const char* sql);

  sqlite3* db_;
  std::map<std::string, std::unique_ptr<Statement>> statements_;
};

struct SqliteEventStore::Opened {
  std::unique_ptr<SqliteEventStore> store;
  std::string recovered_from;  // non-empty when a corrupt file was moved aside
};

}  // namespace dollhouse::daemon
