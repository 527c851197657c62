// The local queue and log: every event the user consented to, until sent and past retention.
//
// EventStore is the storage contract the daemon relies on; SqliteEventStore keeps it in
// <root>/telemetry.db. Calls return a Status the caller must check. An EventStore is used by one
// thread at a time (the daemon's storage thread); it is not internally synchronised.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.hpp"

namespace dollhouse::daemon {

struct StoredEvent {
  std::int64_t id = 0;
  std::int64_t created_ms = 0;  // Unix milliseconds, when the daemon accepted it
  std::string event_type;
  std::string body;  // the stamped event as compact JSON
  bool sent = false;
};

struct QueueStats {
  std::int64_t pending = 0;  // not yet sent
  std::int64_t sent = 0;
  std::int64_t bytes = 0;  // sum of body sizes
};

// Events handed to the uploader under one batch id. The id is written with the events before
// the first attempt, so a retry (after a failure or a restart) sends the same id and the server
// can tell it has seen the batch.
struct UploadBatch {
  std::string batch_id;
  std::vector<std::string> bodies;  // stamped events as JSON text, oldest first
  std::int64_t bytes = 0;
};

// A remote deletion request, kept until the server acknowledged it.
struct PendingDeletion {
  std::string install_id;
  std::int64_t requested_ms = 0;
};

// A usage rollup in progress is kept per ISO week and app.
struct UsageKey {
  std::string week_start;  // the Monday that starts the week, "2026-11-23"
  std::string app;         // the app's name from its hello
  auto operator<=>(const UsageKey&) const = default;
};

struct Eviction {
  std::int64_t removed = 0;
  std::int64_t removed_unsent = 0;
};

class EventStore {
 public:
  virtual ~EventStore() = default;

  // One transaction around many calls (group commit).
  virtual Status begin() = 0;
  // A transaction that only reads (commit() ends it): a consistent view that needs no space on
  // disk and takes no write lock.
  virtual Status begin_read() = 0;
  virtual Status commit() = 0;
  virtual void rollback() = 0;

  // `app` is the sending app's name (the event's "app"), kept in its own column so one app's
  // events can be counted and removed.
  virtual Status append(std::int64_t created_ms, const std::string& event_type,
                        const std::string& app, const std::string& body) = 0;
  // Newest first; since_ms filters on created_ms >= since_ms.
  virtual Result<std::vector<StoredEvent>> newest(std::int64_t limit,
                                                  std::optional<std::int64_t> since_ms) = 0;
  // Oldest first, everything.
  virtual Result<std::vector<StoredEvent>> all() = 0;
  virtual Result<QueueStats> stats() = 0;
  // The same per app (events stored before apps were recorded count under "").
  virtual Result<std::map<std::string, QueueStats>> app_stats() = 0;
  // How many events were accepted at or after since_ms (all, when nullopt).
  virtual Result<std::int64_t> count_since(std::optional<std::int64_t> since_ms) = 0;

  virtual Result<std::int64_t> delete_all() = 0;
  // The user's local deletion: every event and usage total, nothing else (counters, upload
  // state and remote deletion requests stay). In effect at once for every later call, also when
  // the disk refuses the write: then the store keeps it in memory and completes it in every
  // later write transaction until one commits. Returns how many events it deleted.
  virtual Result<std::int64_t> delete_local_log() = 0;
  // Whether a local deletion is in effect but not yet committed.
  virtual bool local_deletion_pending() const = 0;
  // Events appended and usage totals saved since the transaction began: what a failed commit
  // refuses.
  virtual std::int64_t messages_in_transaction() const = 0;
  // Unsent events, all or of one event type.
  virtual Result<std::int64_t> delete_unsent(const std::optional<std::string>& event_type) = 0;
  // Unsent events of one app.
  virtual Result<std::int64_t> delete_unsent_of_app(const std::string& app) = 0;
  // Removes one JSON member (a path such as "$.performance") from the unsent events of a type.
  virtual Result<std::int64_t> remove_unsent_field(const std::string& event_type,
                                                   const std::string& json_path) = 0;
  // Removes events accepted before cutoff_ms.
  virtual Result<Eviction> evict_older_than(std::int64_t cutoff_ms) = 0;
  // Removes the oldest events until at most max_events and max_bytes remain.
  virtual Result<Eviction> evict_to_fit(std::int64_t max_events, std::int64_t max_bytes) = 0;

  // Named counters (drop reasons and the like), kept across restarts.
  virtual Result<std::map<std::string, std::int64_t>> load_counters() = 0;
  virtual Status save_counters(const std::map<std::string, std::int64_t>& counters) = 0;

  // The batch to upload next: the unsent events that already carry a batch id (a batch
  // formed earlier and not yet acknowledged), else the oldest unsent events up to the limits
  // (at least one), which are given `new_batch_id`. Empty when nothing is unsent.
  virtual Result<UploadBatch> take_batch(std::int64_t max_events, std::int64_t max_bytes,
                                         const std::string& new_batch_id) = 0;
  virtual Result<std::int64_t> mark_batch_sent(const std::string& batch_id) = 0;
  // Deletes the batch's unsent events (the server refused them for good).
  virtual Result<std::int64_t> drop_batch(const std::string& batch_id) = 0;

  // Small named values (the upload schedule) kept across restarts.
  virtual Result<std::optional<std::string>> get_value(const std::string& key) = 0;
  virtual Status put_value(const std::string& key, const std::string& value) = 0;

  // Remote deletions: queued durably, never evicted, removed when acknowledged.
  virtual Status add_deletion(const std::string& install_id, std::int64_t requested_ms) = 0;
  virtual Result<std::vector<PendingDeletion>> pending_deletions() = 0;
  virtual Status finish_deletion(const std::string& install_id) = 0;

  // Usage rollups not yet closed, by week and app -> the running totals as JSON text.
  virtual Result<std::map<UsageKey, std::string>> usage_weeks() = 0;
  // One of them, when it is there.
  virtual Result<std::optional<std::string>> usage_week(const UsageKey& key) = 0;
  virtual Status put_usage_week(const UsageKey& key, const std::string& data) = 0;
  virtual Status delete_usage_week(const UsageKey& key) = 0;
  virtual Status delete_all_usage() = 0;
  // The rollups in progress of one app.
  virtual Status delete_usage_of_app(const std::string& app) = 0;
};

}  // namespace dollhouse::daemon
