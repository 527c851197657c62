#include "daemon/storage/storage_worker.hpp"

#include <spdlog/spdlog.h>

#include "daemon/counters.hpp"
#include "daemon/settings.hpp"

namespace dollhouse::daemon {

StorageWorker::StorageWorker(std::unique_ptr<EventStore> store, const Clock& clock,
                             StorageLimits limits)
    : store_(std::move(store)), clock_(clock), limits_(limits), failure_log_(kFailureLogInterval) {}

StorageWorker::~StorageWorker() {
  stop();
}

Status StorageWorker::start() {
  auto counters = store_->load_counters();
  if (!counters) return counters.status();
  counters_ = std::move(counters.value());
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

void StorageWorker::post(Task task) {
  {
    std::lock_guard lock(mutex_);
    tasks_.push_back(Queued{std::move(task), false});
  }
  backlog_.fetch_add(1, std::memory_order_relaxed);
  wake_.notify_one();
}

void StorageWorker::post_read(Task task) {
  {
    std::lock_guard lock(mutex_);
    tasks_.push_back(Queued{std::move(task), true});
  }
  backlog_.fetch_add(1, std::memory_order_relaxed);
  wake_.notify_one();
}

void StorageWorker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void StorageWorker::run() {
  std::deque<Queued> batch;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty() && stopping_) return;
      std::size_t n = std::min(tasks_.size(), limits_.max_tasks_per_commit);
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(tasks_.front()));
        tasks_.pop_front();
      }
    }
    std::size_t n = batch.size();
    run_batch(batch);
    batch.clear();
    backlog_.fetch_sub(n, std::memory_order_relaxed);
  }
}

void StorageWorker::run_batch(std::deque<Queued>& batch) {
  auto first = batch.begin();
  while (first != batch.end()) {
    if (first->read) {
      run_read(first->task);
      ++first;
      continue;
    }
    auto last = first;
    while (last != batch.end() && !last->read) ++last;
    run_writes(first, last);
    first = last;
  }
}

namespace {

void run_completions(std::vector<std::function<void(const Status&)>>& on_commit,
                     const Status& status) {
  for (auto& done : on_commit) {
    try {
      done(status);
    } catch (const std::exception& e) {
      spdlog::error("storage completion failed: {}", e.what());
    }
  }
}

}  // namespace

void StorageWorker::run_read(Task& task) {
  std::vector<std::function<void(const Status&)>> on_commit;
  // A deferred transaction only reads: it needs no space on disk and takes no write lock.
  Status status = store_->begin_read();
  StorageContext ctx{*store_,           counters_, clock_.now(), on_commit, false,
                     last_write_error_, {},        {},           {},        {}};
  try {
    task(ctx);
  } catch (const std::exception& e) {
    spdlog::error("storage task failed: {}", e.what());
  }
  if (status) status = store_->commit();
  if (!status) store_->rollback();
  // A read must not change counters; any it did are kept for the next write.
  for (const auto& [name, n] : ctx.changes) unsaved_.insert(name);
  run_completions(on_commit, status);
}

void StorageWorker::run_writes(std::deque<Queued>::iterator first,
                               std::deque<Queued>::iterator last) {
  std::vector<std::function<void(const Status&)>> on_commit;
  Status status = store_->begin();
  const bool in_transaction = status.is_ok();
  StorageContext ctx{*store_,           counters_, clock_.now(), on_commit, false,
                     last_write_error_, {},        {},           {},        {}};
  // Tasks run even when the transaction could not begin: they register the completions that
  // must hear about the failure (a reply, the uploader's next step), and their writes then
  // fail or commit one by one.
  std::size_t tasks = 0;
  for (auto it = first; it != last; ++it, ++tasks) {
    try {
      it->task(ctx);
    } catch (const std::exception& e) {
      spdlog::error("storage task failed: {}", e.what());
    }
  }
  if (in_transaction) {
    if (ctx.appended) {
      auto evicted = store_->evict_to_fit(limits_.max_events, limits_.max_bytes);
      if (evicted && evicted->removed > 0) {
        ctx.count(counter::dropped(ipc::DropReason::kEvictedSize), evicted->removed_unsent);
        ctx.count(counter::kPrunedSize, evicted->removed - evicted->removed_unsent);
        spdlog::warn("queue over its cap: evicted the {} oldest events ({} unsent)",
                     evicted->removed, evicted->removed_unsent);
      }
    }
    if (!unsaved_.empty() || !ctx.changes.empty()) {
      std::map<std::string, std::int64_t> changed;
      for (const auto& name : unsaved_) changed.emplace(name, counters_[name]);
      for (const auto& [name, n] : ctx.changes) changed.emplace(name, counters_[name]);
      status = store_->save_counters(changed);
    }
    if (status) status = store_->commit();
  }
  if (status) {
    unsaved_.clear();
    if (!last_write_error_.empty()) {
      spdlog::info("the database takes writes again ({} more failed write batches before this)",
                   failure_log_.suppressed());
      failure_log_.reset();
    }
    last_write_error_.clear();
  } else {
    // What the failed transaction refused: the events and usage totals it had written, and
    // those its tasks already counted as refused one by one. Counter updates, deletions and
    // queries are not messages of an app and are not counted.
    const std::string refused_name = counter::dropped(ipc::DropReason::kStorageError);
    auto counted = ctx.changes.find(refused_name);
    const std::int64_t refused =
        store_->messages_in_transaction() + (counted == ctx.changes.end() ? 0 : counted->second);
    store_->rollback();
    // Back to the counters before the transaction, then what stands whatever became of it.
    for (const auto& [name, n] : ctx.changes) counters_[name] -= n;
    for (const auto& name : ctx.created) {
      if (auto it = counters_.find(name); it != counters_.end() && it->second == 0) {
        counters_.erase(it);
      }
    }
    if (refused > 0) {
      counters_[refused_name] += refused;
      unsaved_.insert(refused_name);
    }
    for (const auto& [name, n] : ctx.facts) {
      counters_[name] += n;
      unsaved_.insert(name);
    }
    last_write_error_ = status.message();
    if (auto left_out = failure_log_.occurred(clock_.now())) {
      spdlog::error(
          "could not write to the database ({}); {} requests failed, {} events or usage "
          "messages refused: {} ({} more failed write batches not logged before this)",
          status.code(), tasks, refused, status.message(), *left_out);
    }
  }
  run_completions(on_commit, status);
}

}  // namespace dollhouse::daemon
