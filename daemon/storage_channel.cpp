#include "daemon/storage_channel.hpp"

#include <boost/asio/post.hpp>

namespace dollhouse::daemon {

namespace asio = boost::asio;
using nlohmann::json;

StorageChannel::StorageChannel(asio::io_context& io, StorageWorker& worker)
    : io_(io), worker_(worker) {}

void StorageChannel::post(StorageWorker::Task task) {
  worker_.post(std::move(task));
}

void StorageChannel::count(std::string name, std::int64_t n) {
  worker_.post([name = std::move(name), n](StorageContext& ctx) { ctx.count_fact(name, n); });
}

void StorageChannel::after_commit(StorageContext& ctx, AfterCommit done) {
  // The first completion of a transaction registers the one hand-over for all of them; they
  // run on the I/O thread in the order they were registered. ctx outlives its completions.
  if (ctx.io_completions.empty()) {
    ctx.on_commit.push_back([this, &ctx](const Status& commit) {
      asio::post(io_, [batch = std::move(ctx.io_completions), commit] {
        for (const auto& completion : batch) completion(commit);
      });
    });
  }
  ctx.io_completions.push_back(std::move(done));
}

namespace {

// The reply to a query once its transaction is over.
void reply_with(Connection& connection, const json& id, const Result<json>& result,
                const Status& commit) {
  EndStorageRequestOnExit ending(connection);
  if (!commit) {
    connection.reply_error(id, ipc::ErrorCode::kStorageError,
                           "the daemon could not write its database: " + commit.message());
  } else if (!result) {
    const Status& st = result.status();
    connection.reply_error(
        id, ipc::parse_error_code(st.code()).value_or(ipc::ErrorCode::kStorageError), st.message());
  } else {
    connection.reply_ok(id, result.value());
  }
}

}  // namespace

void StorageChannel::query(const std::shared_ptr<Connection>& connection, const json& id, Query q) {
  connection->begin_storage_request();
  worker_.post([this, connection, id, q = std::move(q)](StorageContext& ctx) {
    auto result = std::make_shared<Result<json>>(q(ctx));
    after_commit(ctx, [connection, id, result](const Status& commit) {
      reply_with(*connection, id, *result, commit);
    });
  });
}

void StorageChannel::read_query(const std::shared_ptr<Connection>& connection, const json& id,
                                Query q) {
  connection->begin_storage_request();
  worker_.post_read([this, connection, id, q = std::move(q)](StorageContext& ctx) {
    auto result = std::make_shared<Result<json>>(q(ctx));
    after_commit(ctx, [connection, id, result](const Status& commit) {
      reply_with(*connection, id, *result, commit);
    });
  });
}

void StorageChannel::post_read(StorageWorker::Task task) {
  worker_.post_read(std::move(task));
}

}  // namespace dollhouse::daemon
