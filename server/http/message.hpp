// HTTP requests and responses as the route handlers see them: plain values, no sockets, so every
// handler is a function from Request to Response that unit tests call directly.
//
// The session (http/session.hpp) fills a Request from the wire (after inflating a gzip body)
// and writes the Response back. Nothing here is shared between threads.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace dollhouse::server {

struct Request {
  std::string method;                        // "GET", "POST", …
  std::string path;                          // without the query string
  std::map<std::string, std::string> query;  // decoded query parameters
  std::string content_type;
  std::string telemetry_version;  // X-Telemetry-Version
  std::string idempotency_key;    // Idempotency-Key
  std::string body;               // already inflated when it came gzip-encoded
  std::string authorization;      // Authorization
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  bool close = false;  // end the connection after this response

  static Response json(int status, const nlohmann::json& body);
  // {"error":{"code":…,"message":…}}
  static Response error(int status, std::string_view code, std::string_view message);
};

// Splits "/a/b?x=1&y=%20" into path and decoded parameters; false when the target is not a
// valid origin-form target (percent escapes broken).
bool parse_target(std::string_view target, std::string& path,
                  std::map<std::string, std::string>& query);

}  // namespace dollhouse::server
