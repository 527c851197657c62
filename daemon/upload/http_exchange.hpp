// One HTTP(S) request and its response, asynchronously on the daemon's I/O thread. Two
// transports behind this header, chosen by file suffix: http_exchange_posix.cpp (Beast over
// Asio, OpenSSL for TLS) and http_exchange_windows.cpp (WinHTTP: the system's TLS, certificate
// store and proxy settings).
//
// TLS: 1.2 or newer, the peer's chain verified against the system store plus
// DOLLHOUSE_TELEMETRY_CA_FILE, the host name verified, SNI sent. Timeouts bound connect,
// handshake and the whole exchange. The request carries only what the upload contract needs:
// no cookies, no client identity beyond what TCP implies. Both transports give the same
// HttpResult for the same answer: the status, Retry-After and at most kMaxResponseBytes of body.
//
// Threading: start() and cancel() on the I/O thread; `done` runs there exactly once.
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.hpp"
#include "daemon/upload/upload_policy.hpp"

namespace dollhouse::daemon {

struct HttpRequestSpec {
  std::string method;  // "POST", "DELETE"
  std::string target;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct HttpResult {
  int status = 0;           // 0 when there was no HTTP answer
  std::string error;        // what went wrong when status == 0
  std::string retry_after;  // the Retry-After header, if any
  std::string body;         // at most kMaxResponseBytes
};

struct HttpTimeouts {
  std::chrono::milliseconds connect{10'000};
  std::chrono::milliseconds handshake{10'000};
  std::chrono::milliseconds total{30'000};
};

inline constexpr std::size_t kMaxResponseBytes = 64 * 1024;

// The transport's TLS settings, made once per endpoint: verification on, TLS 1.2+, system roots
// plus an optional CA file (PEM, one or more certificates). Defined by each transport.
class TlsContext;

// Fails when the system store or `ca_file` (when not empty) cannot be loaded.
Result<std::shared_ptr<TlsContext>> make_tls_context(const std::string& ca_file);

class HttpExchange {
 public:
  using Done = std::function<void(HttpResult)>;
  virtual ~HttpExchange() = default;
  // Closes the connection; `done` then runs with an error.
  virtual void cancel() = 0;

  static std::shared_ptr<HttpExchange> start(boost::asio::io_context& io, TlsContext& tls,
                                             const Endpoint& endpoint, HttpRequestSpec request,
                                             HttpTimeouts timeouts, Done done);
};

}  // namespace dollhouse::daemon
