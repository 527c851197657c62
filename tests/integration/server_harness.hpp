// Integration-test helpers for dollhouse-telemetry-server: the real server as a child process
// on 127.0.0.1 with a free port, and a small synchronous HTTP/1.1 client (Boost.Beast, plain
// or TLS with certificate and host verification) that can reuse one connection (keep-alive).
//
// One ServerProcess per test; an HttpClient belongs to one thread at a time.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace dollhouse::testing {

struct HttpReply {
  int status = 0;                              // 0 when the request failed at the transport level
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string error;  // transport error, when status == 0
  nlohmann::json json() const;
};

struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

class HttpClient {
 public:
  // ca_file non-empty: connect with TLS, verify the chain against it and the host name/IP.
  HttpClient(std::string host, int port, std::string ca_file = "");
  ~HttpClient();
  HttpReply send(const HttpRequest& req);
  HttpReply get(const std::string& target);
  // POST with the daemon's upload headers (Content-Type, X-Telemetry-Version, Idempotency-Key).
  HttpReply post_batch(const nlohmann::json& batch, bool gzip = false);
  HttpReply del(const std::string& target);
  // Raw bytes, then whatever comes back until the server closes (for malformed requests).
  std::string raw(const std::string& bytes);
  // Closes the kept-alive connection.
  void close();
  // How many TCP connections this client has opened so far.
  int connections_opened() const { return connections_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int connections_ = 0;
};

class ServerProcess {
 public:
  // Starts the server on 127.0.0.1:0 with the given --database (default: a SQLite file in
  // the temp dir) and extra arguments; waits until it listens.
  explicit ServerProcess(std::vector<std::string> extra_args = {}, std::string database = "");
  bool running() const { return port_ > 0; }
  int port() const { return port_; }
  std::string url(const std::string& path = "") const;
  HttpClient client() const { return HttpClient("127.0.0.1", port_); }
  ChildProcess& process() { return *process_; }
  std::optional<int> stop();  // SIGTERM, then the exit code
  const TempDir& dir() const { return dir_; }
  const std::string& database() const { return database_; }

 private:
  TempDir dir_;
  std::string database_;
  std::unique_ptr<ChildProcess> process_;
  int port_ = 0;
  bool tls_ = false;
};

}  // namespace dollhouse::testing
