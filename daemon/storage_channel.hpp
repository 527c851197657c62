// The I/O thread's way to the storage thread: posts tasks, counts, and runs queries whose
// results come back to the I/O thread as replies once their transaction is committed.
//
// Construct and call on the I/O thread; backlog() may be called from anywhere. Tasks run on the
// storage thread (daemon/storage/storage_worker.hpp) and must capture copies, never references
// to I/O-thread state.
#pragma once

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "daemon/connection.hpp"
#include "daemon/storage/storage_worker.hpp"
#include "ipc/reasons.hpp"

namespace dollhouse::daemon {

class StorageChannel {
 public:
  using Query = std::function<Result<nlohmann::json>(StorageContext&)>;
  using AfterCommit = std::function<void(const Status& commit)>;

  StorageChannel(boost::asio::io_context& io, StorageWorker& worker);

  // A task with no reply.
  void post(StorageWorker::Task task);
  // Adds n to a persistent counter (daemon/counters.hpp names them).
  void count(std::string name, std::int64_t n = 1);
  // Runs `query` on the storage thread and replies to `id` on `connection` with its result
  // once the transaction is committed: the query's fields, its error, or storage_error when
  // the commit failed.
  void query(const std::shared_ptr<Connection>& connection, const nlohmann::json& id, Query query);
  // The same for a query that only reads: it runs once the writes posted before it are decided
  // and answers even while the database refuses writes.
  void read_query(const std::shared_ptr<Connection>& connection, const nlohmann::json& id,
                  Query query);
  // A read task with no reply of its own (see StorageWorker::post_read).
  void post_read(StorageWorker::Task task);
  // From inside a task: runs `done` on the I/O thread once the task's transaction has been
  // committed (or has failed).
  void after_commit(StorageContext& ctx, AfterCommit done);
  // Tasks waiting for the storage thread.
  std::size_t backlog() const { return worker_.backlog(); }

 private:
  boost::asio::io_context& io_;
  StorageWorker& worker_;
};

}  // namespace dollhouse::daemon
