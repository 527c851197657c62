// The daemon's ops, one file each under daemon/commands/, registered in one table
// (command_table.cpp). To add an op: write daemon/commands/<op>.cpp with a handle_<op>, add it
// to the table and to daemon/sources.cmake, and give it a test in tests/unit/daemon/commands/.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "daemon/commands/command_context.hpp"

namespace dollhouse::daemon {

using CommandHandler = void (*)(CommandContext& ctx, const std::shared_ptr<Connection>& connection,
                                const ipc::Request& request);

// nullptr for an unknown op.
CommandHandler find_command(std::string_view op);
// Every op, in the table's order, comma-separated: "hello, track, ...".
std::string known_ops();

void handle_hello(CommandContext&, const std::shared_ptr<Connection>&, const ipc::Request&);
void handle_track(CommandContext&, const std::shared_ptr<Connection>&, const ipc::Request&);
void handle_usage(CommandContext&, const std::shared_ptr<Connection>&, const ipc::Request&);
void handle_sync(CommandContext&, const std::shared_ptr<Connection>&, const ipc::Request&);
void handle_status(CommandContext&, const std::shared_ptr<Connection>&, const ipc::Request&);
void handle_consent(CommandContext&, const std::shared_ptr<Connection>&, const ipc::Request&);
void handle_show(CommandContext&, const std::shared_ptr<Connection>&, const ipc::Request&);
void handle_delete(CommandContext&, const std::shared_ptr<Connection>&, const ipc::Request&);
void handle_export(CommandContext&, const std::shared_ptr<Connection>&, const ipc::Request&);
void handle_flush(CommandContext&, const std::shared_ptr<Connection>&, const ipc::Request&);
void handle_config(CommandContext&, const std::shared_ptr<Connection>&, const ipc::Request&);
void handle_shutdown(CommandContext&, const std::shared_ptr<Connection>&, const ipc::Request&);

}  // namespace dollhouse::daemon
