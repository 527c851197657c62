// Wire protocol v1 between apps and the daemon: request parsing and reply building.
//
// One UTF-8 JSON object per line: {"v":1,"op":"...","id":..., ...}. A request with an "id" gets
// exactly one reply, {"id":...,"ok":true,...} or {"id":...,"ok":false,"error":{"code","message"}}.
// Control ops (every op but "track" and "usage") are answered even without a usable id, with
// "id":null; a track or usage without one is fire-and-forget.
// Everything here is pure; the daemon and the clients share it so both agree on the limits.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/json_text.hpp"

#include "ipc/framing.hpp"
#include "ipc/reasons.hpp"

namespace dollhouse::ipc {

inline constexpr int kProtocolVersion = 1;
// Largest line (without its newline) either side accepts.
inline constexpr std::size_t kMaxLineBytes = 64 * 1024;
// Deepest nesting of arrays and objects in a request.
inline constexpr int kMaxNestingDepth = 16;
// Longest string id. An integer id must fit in a signed 64-bit integer.
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
  // Whether the error is answered even when `id` is null. True unless the line is, or may be,
  // a fire-and-forget op: its op is "track" or "usage", or the line is too broken for its op to
  // be read (not JSON, cut off or not UTF-8 before the op). So a control op, an unknown op or a
  // request without an op always gets its error, with "id":null when its id was unusable.
  bool always_reply = false;
};

struct ParseResult {
  std::optional<Request> request;
  RequestError error;  // when !request
};

// Parses one frame into a request: checks size, UTF-8, nesting, JSON syntax, the envelope
// ("v" a number equal to 1, "op" a non-empty string, "id" absent or null, an integer that fits
// in int64, or a string of at most kMaxIdLength bytes). Does not know which ops exist; the
// caller answers unknown_op, always (an unknown op is never a fire-and-forget one).
ParseResult parse_request(const Frame& frame);

// Nesting depth of JSON text (strings are skipped), computed without parsing.
using dollhouse::json_nesting_depth;

// Best-effort: the top-level "id" of a JSON object that may be cut off or malformed after it;
// null when it is absent, cut off or not a valid id.
nlohmann::json recover_id(std::string_view text);

// Best-effort: the top-level "op" string of a JSON object that may be malformed anywhere, read
// without parsing the values around it (so a number JSON cannot hold, such as 1e400, or bytes
// that are not UTF-8 in another field do not hide it). nullopt when there is none, or it is cut
// off or not a string.
std::optional<std::string> recover_op(std::string_view text);

// Reply lines, newline included.
std::string ok_reply(const nlohmann::json& id, nlohmann::json fields = nlohmann::json::object());
std::string error_reply(const nlohmann::json& id, ErrorCode code, std::string_view message);

}  // namespace dollhouse::ipc
