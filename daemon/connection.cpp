#include "daemon/connection.hpp"

#include "ipc/protocol.hpp"

namespace dollhouse::daemon {

void Connection::reply_ok(const nlohmann::json& id, nlohmann::json fields, bool always) {
  if (id.is_null() && !always) return;
  send(ipc::ok_reply(id, std::move(fields)));
}

void Connection::reply_error(const nlohmann::json& id, ipc::ErrorCode code,
                             std::string_view message, bool always, nlohmann::json extra) {
  if (id.is_null() && !always) return;
  if (extra.is_object()) {
    nlohmann::json reply = {{"id", id}, {"ok", false}, {"error", extra}};
    reply["error"]["code"] = code;
    reply["error"]["message"] = std::string(message);
    send(reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    return;
  }
  send(ipc::error_reply(id, code, message));
}

}  // namespace dollhouse::daemon
