// The HTTP(S) front end: a listener that accepts connections on one address and a session per
// connection that reads requests (HTTP/1.1, keep-alive), hands them to the router and writes the
// answers back.
//
// Threading: everything runs on the io_context given to HttpServer, which any number of threads
// may run. Each connection has its own strand, so a session's handlers never run concurrently;
// route handlers run on that strand and may block briefly on storage. listen()/start() are
// called once before the threads start; shutdown() may be called from any handler of the
// io_context (the SIGTERM handler does). Client addresses are never logged or kept.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "common/status.hpp"
#include "server/server_context.hpp"

namespace dollhouse::server {

struct SessionRegistry;

class HttpServer {
 public:
  // `tls` is null for plain HTTP; otherwise every connection starts with a TLS handshake.
  HttpServer(ServerContext& ctx, boost::asio::io_context& ioc, boost::asio::ssl::context* tls);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens on host:port (port 0 picks a free one; port() then tells which).
  Status listen(const std::string& host, std::uint16_t port);
  std::uint16_t port() const { return port_; }
  // Starts accepting connections.
  void start();
  // Stops accepting, closes idle keep-alive connections and lets requests in flight finish.
  void shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_ = 0;
};

// Builds a TLS server context from PEM files (certificate chain, private key). TLS 1.2+.
Result<std::shared_ptr<boost::asio::ssl::context>> make_tls_context(const std::string& cert_file,
                                                                    const std::string& key_file);

}  // namespace dollhouse::server
