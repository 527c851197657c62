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
  StorageContext ctx{*store_, counters_, clock_.now(), on_commit, false, last_write_error_, {}, {}};
  auto counters_before = counters_;
  try {
    task(ctx);
  } catch (const std::exception& e) {
    spdlog::error("storage task failed: {}", e.what());
  }
  if (status) status = store_->commit();
  if (!status) store_->rollback();
  // A read must not change counters; any it did are kept for the next write.
  if (counters_ != counters_before) counters_unsaved_ = true;
  run_completions(on_commit, status);
}

void StorageWorker::run_writes(std::deque<Queued>::iterator first,
                               std::deque<Queued>::iterator last) {
  std::vector<std::function<void(const Status&)>> on_commit;
  auto counters_before = counters_;
  Status status = store_->begin();
  const bool in_transaction = status.is_ok();
  StorageContext ctx{*store_, counters_, clock_.now(), on_commit, false, last_write_error_, {}, {}};
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
    if (counters_unsaved_ || counters_ != counters_before) {
      status = store_->save_counters(counters_);
    }
    if (status) status = store_->commit();
  }
  if (status) {
    counters_unsaved_ = false;
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
    auto value_in = [&refused_name](const std::map<std::string, std::int64_t>& counters) {
      auto it = counters.find(refused_name);
      return it == counters.end() ? std::int64_t{0} : it->second;
    };
    const std::int64_t refused =
        store_->messages_in_transaction() + value_in(counters_) - value_in(counters_before);
    store_->rollback();
    counters_ = std::move(counters_before);
    if (refused > 0) counters_[refused_name] += refused;
    for (const auto& [name, n] : ctx.facts) counters_[name] += n;
    counters_unsaved_ = true;
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
