#include "daemon/dispatcher.hpp"

#include <spdlog/spdlog.h>

#include "daemon/commands/command_table.hpp"
#include "daemon/counters.hpp"

namespace dollhouse::daemon {

void Dispatcher::dispatch(const std::shared_ptr<Connection>& connection, const ipc::Frame& frame) {
  ipc::ParseResult parsed = ipc::parse_request(frame);
  if (!parsed.request) {
    context_.storage.count(counter::protocol(parsed.error.code));
    connection->reply_error(parsed.error.id, parsed.error.code, parsed.error.message,
                            parsed.error.always_reply);
    return;
  }
  const ipc::Request& req = *parsed.request;
  CommandHandler handler = find_command(req.op);
  if (handler == nullptr) {
    context_.storage.count(counter::protocol(ipc::ErrorCode::kUnknownOp));
    connection->reply_error(
        req.id, ipc::ErrorCode::kUnknownOp,
        "unknown op \"" + req.op.substr(0, 32) + "\"; this daemon knows " + known_ops(), true);
    return;
  }
  try {
    handler(context_, connection, req);
  } catch (const std::exception& e) {
    context_.storage.count(counter::protocol(ipc::ErrorCode::kInternal));
    spdlog::error("op {} failed: {}", req.op, e.what());
    connection->reply_error(req.id, ipc::ErrorCode::kInternal, "internal error in the daemon",
                            false);
  }
}

}  // namespace dollhouse::daemon
