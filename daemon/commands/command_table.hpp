// The daemon's ops, one file each under daemon/commands/, registered in one table.
//
// A handler runs on the I/O thread. It must reply exactly once when the request has an id (or
// always, for control ops), either directly or through Daemon::query.
#pragma once

#include <memory>
#include <string_view>

#include "ipc/protocol.hpp"

namespace dollhouse::daemon {

class Daemon;
class Session;

using CommandHandler = void (*)(Daemon& daemon, const std::shared_ptr<Session>& session,
                                const ipc::Request& request);

// nullptr for an unknown op.
CommandHandler find_command(std::string_view op);

void handle_hello(Daemon&, const std::shared_ptr<Session>&, const ipc::Request&);
void handle_track(Daemon&, const std::shared_ptr<Session>&, const ipc::Request&);
void handle_usage(Daemon&, const std::shared_ptr<Session>&, const ipc::Request&);
void handle_sync(Daemon&, const std::shared_ptr<Session>&, const ipc::Request&);
void handle_status(Daemon&, const std::shared_ptr<Session>&, const ipc::Request&);
void handle_consent(Daemon&, const std::shared_ptr<Session>&, const ipc::Request&);
void handle_show(Daemon&, const std::shared_ptr<Session>&, const ipc::Request&);
void handle_delete(Daemon&, const std::shared_ptr<Session>&, const ipc::Request&);
void handle_export(Daemon&, const std::shared_ptr<Session>&, const ipc::Request&);
void handle_flush(Daemon&, const std::shared_ptr<Session>&, const ipc::Request&);

}  // namespace dollhouse::daemon
