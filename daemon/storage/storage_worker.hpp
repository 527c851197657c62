// The storage thread: the only code that touches telemetry.db while the daemon runs.
//
// Connections post tasks; the worker runs every task waiting at that moment (up to
// kMaxTasksPerCommit) inside one transaction and commits once (group commit), then runs the
// tasks' completions with the commit's status. A completion therefore runs only when what its
// task wrote is durable, which is what `sync` needs: the tasks of one connection are posted in
// order, so a sync posted after a connection's events completes after they are on disk.
//
// post() and backlog() may be called from any thread. Completions run on the worker thread and
// must hand their results back to the I/O thread themselves (asio::post).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
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

  void count(const std::string& name, std::int64_t n = 1) {
    if (n != 0) counters[name] += n;
  }
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
  void post(Task task);
  // Runs every task posted so far, commits, and stops the thread. Idempotent.
  void stop();
  std::size_t backlog() const { return backlog_.load(std::memory_order_relaxed); }

 private:
  void run();
  void run_batch(std::deque<Task>& batch);

  std::unique_ptr<EventStore> store_;
  const Clock& clock_;
  StorageLimits limits_;
  std::map<std::string, std::int64_t> counters_;
  // Set when a failed batch counted its failure: the next batch must save counters_ even if
  // it changes none itself, or the count would be lost at shutdown.
  bool counters_unsaved_ = false;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Task> tasks_;
  bool stopping_ = false;
  std::atomic<std::size_t> backlog_{0};
  std::thread thread_;
};

}  // namespace dollhouse::daemon
