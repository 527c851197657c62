// Wire protocol v1 between apps and the daemon: request parsing and reply building.
//
// One UTF-8 JSON object per line: {"v":1,"op":"...","id":..., ...}. A request with an "id" gets
// exactly one reply, {"id":...,"ok":true,...} or {"id":...,"ok":false,"error":{"code","message"}}.
// Everything here is pure; the daemon and the clients share it so both agree on the limits.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ipc/framing.hpp"
#include "ipc/reasons.hpp"

namespace dollhouse::ipc {

inline constexpr int kProtocolVersion = 1;
// Largest line (without its newline) either side accepts.
inline constexpr std::size_t kMaxLineBytes = 64 * 1024;
// Deepest nesting of arrays and objects in a request.
inline constexpr int kMaxNestingDepth = 16;
// Longest string id.
inline constexpr std::size_t kMaxIdLength = 128;

struct Request {
  std::string op;
  nlohmann::json id;  // null when the request has none
  nlohmann::json body;
};

struct RequestError {
  ErrorCode code = ErrorCode::kInvalidRequest;
  std::string message;
  nlohmann::json id;  // recovered when possible, else null
};

struct ParseResult {
  std::optional<Request> request;
  RequestError error;  // when !request
};

// Parses one frame into a request: checks size, UTF-8, nesting, JSON syntax, the envelope
// ("v" is 1, "op" a non-empty string, "id" absent or an integer or a short string).
// Does not know which ops exist; the caller answers unknown_op.
ParseResult parse_request(const Frame& frame);

// Nesting depth of JSON text (strings are skipped), computed without parsing.
int json_nesting_depth(std::string_view text);

// Best-effort: the top-level "id" of a JSON object that may be cut off or malformed after it.
nlohmann::json recover_id(std::string_view text);

// Reply lines, newline included.
std::string ok_reply(const nlohmann::json& id, nlohmann::json fields = nlohmann::json::object());
std::string error_reply(const nlohmann::json& id, ErrorCode code, std::string_view message);

}  // namespace dollhouse::ipc
