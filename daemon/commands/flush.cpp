// flush: upload now, and reply with what was sent once the attempt is over.
#include <boost/asio/post.hpp>

#include "daemon/commands/command_table.hpp"
#include "daemon/daemon.hpp"

namespace dollhouse::daemon {

void handle_flush(Daemon& daemon, const std::shared_ptr<Session>& session,
                  const ipc::Request& req) {
  Uploader* uploader = daemon.uploader();
  if (uploader == nullptr || !uploader->configured()) {
    std::string why = uploader == nullptr ? std::string("no uploader")
                                          : uploader->status_json().value("configError", "");
    session->reply_error(
        req.id, ipc::errc::kNotConfigured,
        "uploading is not configured: " + why + "; events stay in the local queue");
    return;
  }
  session->begin_storage_request();
  nlohmann::json id = req.id;
  uploader->flush_now([session, id](nlohmann::json outcome) {
    session->end_storage_request();
    session->reply_ok(id, {{"flush", std::move(outcome)}});
  });
}

}  // namespace dollhouse::daemon
