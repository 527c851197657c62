// One HTTP connection, plain or TLS: reads a request with bounded header and body sizes and a
// deadline, turns it into a Request (inflating gzip bodies within the same bound), asks the
// router, writes the Response, and repeats while the client keeps the connection alive.
//
// Internal to http/; see http_server.hpp for the threading rules. A session owns itself through
// shared_ptr and lives until its last operation completes.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "server/server_context.hpp"

namespace dollhouse::server {

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Asks the session to close: at once when it waits for a request, else after its response.
  virtual void stop() = 0;
};

// The live sessions, so that shutdown can close idle keep-alive connections.
struct SessionRegistry {
  std::mutex mutex;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;
  bool stopping = false;
};

// Starts a session on an accepted socket. `overloaded` sessions answer one 503 and close.
void start_session(boost::asio::ip::tcp::socket socket, ServerContext& ctx,
                   boost::asio::ssl::context* tls, std::shared_ptr<SessionRegistry> registry,
                   bool overloaded);

}  // namespace dollhouse::server
