#include "ipc/protocol.hpp"

#include <cstdint>
#include <limits>

#include "common/json_text.hpp"
#include "common/utf8.hpp"

namespace dollhouse::ipc {

using nlohmann::json;

namespace {

// Watches SAX events for the first top-level "id" key and keeps its value when it is a valid
// id. `id_out_of_range` says that the id was a number too large for JSON numbers here (1e400):
// the parser stops there, so the line is unreadable only because of its id.
class IdCatcher final : public json::json_sax_t {
 public:
  json id;
  bool id_out_of_range = false;

  bool null() override { return take(json()); }
  bool boolean(bool) override { return take(json()); }
  bool number_integer(number_integer_t v) override { return take(v); }
  bool number_unsigned(number_unsigned_t v) override {
    return take(v <= static_cast<number_unsigned_t>(std::numeric_limits<std::int64_t>::max())
                    ? json(v)
                    : json());
  }
  bool number_float(number_float_t, const string_t&) override { return take(json()); }
  bool string(string_t& v) override { return take(v.size() <= kMaxIdLength ? json(v) : json()); }
  bool binary(binary_t&) override { return take(json()); }
  bool start_object(std::size_t) override { return open(); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(); }
  bool end_array() override { return close(); }
  bool key(string_t& k) override {
    want_ = depth_ == 1 && k == "id";
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    // 406: a number out of the range of double.
    id_out_of_range = want_ && e.id == 406;
    return false;
  }

 private:
  bool take(json v) {
    if (want_) {
      id = std::move(v);
      return false;  // found: stop parsing
    }
    return true;
  }
  bool open() {
    if (want_) want_ = false;  // a structured id is not an id
    return ++depth_ <= kMaxNestingDepth;
  }
  bool close() {
    --depth_;
    return true;
  }
  int depth_ = 0;
  bool want_ = false;
};

IdCatcher catch_id(std::string_view text) {
  IdCatcher catcher;
  json::sax_parse(text.begin(), text.end(), &catcher, json::input_format_t::json, false);
  return catcher;
}

std::size_t skip_space(std::string_view text, std::size_t pos) {
  while (pos < text.size() &&
         (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\r' || text[pos] == '\n')) {
    ++pos;
  }
  return pos;
}

// The index just past the closing quote of the JSON string that opens at `pos`, or npos when the
// text ends first.
std::size_t string_end(std::string_view text, std::size_t pos) {
  for (std::size_t i = pos + 1; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// The framer cuts an oversize line at a byte count, which may fall inside a character: drop
// that incomplete last character so the rest can still be checked and searched for the id.
std::string_view without_cut_character(std::string_view s) {
  for (std::size_t back = 1; back <= 3 && back <= s.size(); ++back) {
    auto c = static_cast<unsigned char>(s[s.size() - back]);
    if ((c & 0xC0) == 0x80) continue;  // a continuation byte: look further back for the lead
    std::size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    return len > back ? s.substr(0, s.size() - back) : s;
  }
  return s;
}

bool is_valid_id(const json& id) {
  if (id.is_number_unsigned()) {
    return id.get<std::uint64_t>() <=
           static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  }
  return id.is_null() || id.is_number_integer() ||
         (id.is_string() && id.get_ref<const std::string&>().size() <= kMaxIdLength);
}

// Only track and usage are fire-and-forget; every other op, known or not, is always answered.
bool is_fire_and_forget(std::string_view op) {
  return op == "track" || op == "usage";
}

// always_reply for a line that could not be parsed: known only when its op can be read.
bool always_reply_to_text(std::string_view text) {
  std::optional<std::string> op = recover_op(text);
  return op.has_value() && !is_fire_and_forget(*op);
}

// always_reply for a parsed object: anything but a track or usage.
bool always_reply_to_request(const json& body) {
  auto op = body.find("op");
  return op == body.end() || !op->is_string() ||
         !is_fire_and_forget(op->get_ref<const std::string&>());
}

// Whether `v` names protocol version 1: any JSON number equal to 1 (1, 1.0, 1e0).
bool is_version_one(const json& v) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>() == 1;
  if (v.is_number_integer()) return v.get<std::int64_t>() == 1;
  return v.get<double>() == 1.0;
}

}  // namespace

json recover_id(std::string_view text) {
  return catch_id(text).id;
}

std::optional<std::string> recover_op(std::string_view text) {
  std::size_t pos = skip_space(text, 0);
  if (pos >= text.size() || text[pos] != '{') return std::nullopt;
  int depth = 0;
  while (pos < text.size()) {
    const char c = text[pos];
    if (c == '"') {
      const std::size_t end = string_end(text, pos);
      if (end == std::string_view::npos) return std::nullopt;
      const bool op_key = depth == 1 && text.substr(pos, end - pos) == R"("op")";
      pos = end;
      if (!op_key) continue;
      std::size_t colon = skip_space(text, pos);
      if (colon >= text.size() || text[colon] != ':') continue;  // a value, not a key
      std::size_t value = skip_space(text, colon + 1);
      if (value >= text.size() || text[value] != '"') return std::nullopt;
      const std::size_t value_end = string_end(text, value);
      if (value_end == std::string_view::npos) return std::nullopt;
      json op = json::parse(text.substr(value, value_end - value), nullptr, false);
      if (!op.is_string()) return std::nullopt;
      return op.get<std::string>();
    }
    if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && --depth <= 0) {
      return std::nullopt;  // the top-level object ended without an op
    }
    ++pos;
  }
  return std::nullopt;
}

ParseResult parse_request(const Frame& frame) {
  ParseResult r;
  const std::string& line = frame.line;
  if (frame.oversize) {
    std::string_view prefix = without_cut_character(line);
    r.error = {ErrorCode::kLineTooLong,
               "line longer than " + std::to_string(kMaxLineBytes) + " bytes; send smaller events",
               is_valid_utf8(prefix) ? recover_id(prefix) : json(), always_reply_to_text(prefix)};
    return r;
  }
  if (!is_valid_utf8(line)) {
    r.error = {ErrorCode::kInvalidUtf8, "line is not valid UTF-8", recover_id(line),
               always_reply_to_text(line)};
    return r;
  }
  if (json_nesting_depth(line) > kMaxNestingDepth) {
    r.error = {ErrorCode::kTooDeep,
               "JSON nested deeper than " + std::to_string(kMaxNestingDepth) + " levels",
               recover_id(line), always_reply_to_text(line)};
    return r;
  }
  const std::string bad_id = "id must be an integer of at most 64 bits or a string of at most " +
                             std::to_string(kMaxIdLength) + " bytes";
  json body = json::parse(line, nullptr, false);
  if (body.is_discarded()) {
    IdCatcher caught = catch_id(line);
    if (caught.id_out_of_range) {
      r.error = {ErrorCode::kInvalidRequest, bad_id, json(), always_reply_to_text(line)};
    } else {
      r.error = {ErrorCode::kInvalidJson, "line is not valid JSON", caught.id,
                 always_reply_to_text(line)};
    }
    return r;
  }
  if (!body.is_object()) {
    r.error = {ErrorCode::kInvalidRequest, "a request must be a JSON object", json(), true};
    return r;
  }
  const bool always = always_reply_to_request(body);
  json id = body.contains("id") ? body["id"] : json();
  if (!is_valid_id(id)) {
    r.error = {ErrorCode::kInvalidRequest, bad_id, json(), always};
    return r;
  }
  auto v = body.find("v");
  if (v == body.end() || !v->is_number()) {
    r.error = {ErrorCode::kInvalidRequest, "missing protocol version: add \"v\":1", id, always};
    return r;
  }
  if (!is_version_one(*v)) {
    r.error = {ErrorCode::kUnsupportedVersion,
               "protocol version " + v->dump() + " is not supported; this daemon speaks v1", id,
               always};
    return r;
  }
  auto op = body.find("op");
  if (op == body.end() || !op->is_string() || op->get_ref<const std::string&>().empty()) {
    r.error = {ErrorCode::kInvalidRequest, "missing \"op\" (a string such as \"track\")", id,
               always};
    return r;
  }
  Request req;
  req.op = op->get<std::string>();
  req.id = std::move(id);
  req.body = std::move(body);
  r.request = std::move(req);
  return r;
}

std::string ok_reply(const json& id, json fields) {
  json reply = json::object();
  reply["id"] = id;
  reply["ok"] = true;
  for (auto& [k, v] : fields.items()) reply[k] = std::move(v);
  std::string out = reply.dump(-1, ' ', false, json::error_handler_t::replace);
  out.push_back('\n');
  return out;
}

std::string error_reply(const json& id, ErrorCode code, std::string_view message) {
  json reply = {
      {"id", id}, {"ok", false}, {"error", {{"code", code}, {"message", std::string(message)}}}};
  std::string out = reply.dump(-1, ' ', false, json::error_handler_t::replace);
  out.push_back('\n');
  return out;
}

}  // namespace dollhouse::ipc
