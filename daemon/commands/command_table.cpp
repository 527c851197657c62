#include "daemon/commands/command_table.hpp"

#include <array>
#include <utility>

#include "daemon/counters.hpp"

namespace dollhouse::daemon {

namespace {

constexpr std::array<std::pair<std::string_view, CommandHandler>, 12> kCommands = {{
    {"hello", handle_hello},
    {"track", handle_track},
    {"usage", handle_usage},
    {"sync", handle_sync},
    {"status", handle_status},
    {"consent", handle_consent},
    {"show", handle_show},
    {"delete", handle_delete},
    {"export", handle_export},
    {"flush", handle_flush},
    {"config", handle_config},
    {"shutdown", handle_shutdown},
}};

}  // namespace

CommandHandler find_command(std::string_view op) {
  for (const auto& [name, handler] : kCommands) {
    if (name == op) return handler;
  }
  return nullptr;
}

std::string known_ops() {
  std::string out;
  for (const auto& [name, handler] : kCommands) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

void count_drop(CommandContext& ctx, Connection& connection, ipc::DropReason reason) {
  ++connection.dropped;
  if (connection.app.known) ctx.apps.count_dropped(connection.app.app);
  ctx.storage.count(counter::dropped(reason));
}

bool require_hello(CommandContext& ctx, Connection& connection, const ipc::Request& req) {
  if (connection.app.known) return true;
  count_drop(ctx, connection, ipc::DropReason::kNoHello);
  connection.reply_error(req.id, ipc::ErrorCode::kHelloRequired,
                         "send hello (app, appVersion) before " + req.op, false);
  return false;
}

bool settle_message(Connection& connection, const nlohmann::json& id, bool written,
                    const Status& commit, std::string_view what) {
  EndStorageRequestOnExit ending(connection, !id.is_null());
  if (written && commit) {
    ++connection.accepted;
    connection.reply_ok(id, {{"accepted", true}}, false);
    return true;
  }
  // The storage thread counted it under dropped.storage_error.
  ++connection.dropped;
  connection.reply_error(id, ipc::ErrorCode::kStorageError,
                         "the daemon could not store the " + std::string(what) + ": " +
                             (commit ? std::string("the write failed") : commit.message()),
                         false);
  return false;
}

}  // namespace dollhouse::daemon
