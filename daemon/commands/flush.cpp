// flush: upload now. No uploader is configured in this build, so it says so.
#include "daemon/commands/command_table.hpp"
#include "daemon/daemon.hpp"

namespace dollhouse::daemon {

void handle_flush(Daemon&, const std::shared_ptr<Session>& session, const ipc::Request& req) {
  session->reply_error(req.id, ipc::errc::kNotConfigured,
                       "uploading is not available in this version of the daemon; events stay "
                       "in the local queue");
}

}  // namespace dollhouse::daemon
