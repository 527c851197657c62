// The storage thread: the only code that touches telemetry.db while the daemon runs.
//
// Connections post tasks; the worker runs every task waiting at that moment (up to
// kMaxTasksPerCommit) in order. Consecutive write tasks share one transaction and one commit
// (group commit); the tasks' completions then run with the commit's status. A completion
// therefore runs only when what its task wrote is durable, or has failed for certain.
//
// Read tasks (post_read) run in a read transaction of their own, after the writes posted
// before them have been committed (or have failed), so they see exactly what is on disk, and a
// write that fails (a full disk) never makes a read fail: status, show and sync answer whatever
// the disk does. `sync` relies on this order: the tasks of one connection are posted in order,
// so a sync posted after a connection's events completes after they are decided.
//
// post(), post_read() and backlog() may be called from any thread. Completions run on the
// worker thread and must hand their results back to the I/O thread themselves (asio::post).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "daemon/log_throttle.hpp"
#include "daemon/storage/event_store.hpp"

namespace dollhouse::daemon {

// What a task sees: the store inside the open transaction, the persistent counters, and a
// place to register work that must wait for the commit.
struct StorageContext {
  EventStore& store;
  std::map<std::string, std::int64_t>& counters;
  SystemTime now;
  std::vector<std::function<void(const Status&)>>& on_commit;
  bool appended = false;  // set by tasks that add events, so the size cap is checked
  // Why the most recent write transaction failed ("" when it committed): a read task reports
  // it, so the user learns that the disk refuses writes.
  std::string last_write_error;
  // Completions bound for the I/O thread (StorageChannel::after_commit): handed over in one
  // post per transaction rather than one per task.
  std::vector<std::function<void(const Status&)>> io_completions;

  void count(const std::string& name, std::int64_t n = 1) {
    if (n == 0) return;
    auto [it, added] = counters.try_emplace(name, 0);
    it->second += n;
    changes[name] += n;
    if (added) created.push_back(name);
  }
  // A count that stands whatever becomes of the transaction (a drop decided before storage,
  // such as no_consent): kept, and saved later, also when the transaction fails. Counts made
  // with count() go with a failed transaction, as the writes they count do.
  void count_fact(const std::string& name, std::int64_t n = 1) {
    if (n == 0) return;
    count(name, n);
    facts[name] += n;
  }
  // What this transaction's tasks counted, so that only those counters are written, and taken
  // back when the transaction fails; the names it added to `counters`.
  std::map<std::string, std::int64_t> changes;
  std::vector<std::string> created;
  std::map<std::string, std::int64_t> facts;
};

struct StorageLimits {
  std::int64_t max_events;
  std::int64_t max_bytes;
  std::size_t max_tasks_per_commit;
};

class StorageWorker {
 public:
  using Task = std::function<void(StorageContext&)>;

  StorageWorker(std::unique_ptr<EventStore> store, const Clock& clock, StorageLimits limits);
  ~StorageWorker();
  StorageWorker(const StorageWorker&) = delete;
  StorageWorker& operator=(const StorageWorker&) = delete;

  // Loads counters and starts the thread.
  Status start();
  // A task that writes: runs inside the next group transaction.
  void post(Task task);
  // A task that only reads: runs on its own once the writes posted before it are decided.
  void post_read(Task task);
  // Runs every task posted so far, commits, and stops the thread. Idempotent.
  void stop();
  std::size_t backlog() const { return backlog_.load(std::memory_order_relaxed); }

 private:
  struct Queued {
    Task task;
    bool read = false;
  };
  void run();
  void run_batch(std::deque<Queued>& batch);
  void run_writes(std::deque<Queued>::iterator first, std::deque<Queued>::iterator last);
  void run_read(Task& task);

  std::unique_ptr<EventStore> store_;
  const Clock& clock_;
  StorageLimits limits_;
  std::map<std::string, std::int64_t> counters_;
  // Counters changed but not written yet (by a failed batch counting its failure, or by a read
  // task): the next write batch saves them with its own, or they would be lost at shutdown.
  std::set<std::string> unsaved_;
  std::string last_write_error_;
  // One log line per kFailureLogInterval while writes keep failing.
  LogThrottle<SystemTime> failure_log_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Queued> tasks_;
  bool stopping_ = false;
  std::atomic<std::size_t> backlog_{0};
  std::thread thread_;
};

}  // namespace dollhouse::daemon
