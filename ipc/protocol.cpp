#include "ipc/protocol.hpp"

#include "common/utf8.hpp"

namespace dollhouse::ipc {

using nlohmann::json;

int json_nesting_depth(std::string_view text) {
  int depth = 0;
  int max_depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '{':
      case '[':
        if (++depth > max_depth) max_depth = depth;
        break;
      case '}':
      case ']':
        --depth;
        break;
      default:
        break;
    }
  }
  return max_depth;
}

namespace {

// Watches SAX events for the first top-level "id" key and keeps its scalar value.
class IdCatcher final : public json::json_sax_t {
 public:
  json id;

  bool null() override { return take(json()); }
  bool boolean(bool) override { return take(json()); }
  bool number_integer(number_integer_t v) override { return take(v); }
  bool number_unsigned(number_unsigned_t v) override { return take(v); }
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
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
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
  return id.is_null() || id.is_number_integer() ||
         (id.is_string() && id.get_ref<const std::string&>().size() <= kMaxIdLength);
}

}  // namespace

json recover_id(std::string_view text) {
  IdCatcher catcher;
  json::sax_parse(text.begin(), text.end(), &catcher, json::input_format_t::json, false);
  return catcher.id;
}

ParseResult parse_request(const Frame& frame) {
  ParseResult r;
  const std::string& line = frame.line;
  if (frame.oversize) {
    std::string_view prefix = without_cut_character(line);
    r.error = {ErrorCode::kLineTooLong,
               "line longer than " + std::to_string(kMaxLineBytes) + " bytes; send smaller events",
               is_valid_utf8(prefix) ? recover_id(prefix) : json()};
    return r;
  }
  if (!is_valid_utf8(line)) {
    r.error = {ErrorCode::kInvalidUtf8, "line is not valid UTF-8", recover_id(line)};
    return r;
  }
  if (json_nesting_depth(line) > kMaxNestingDepth) {
    r.error = {ErrorCode::kTooDeep,
               "JSON nested deeper than " + std::to_string(kMaxNestingDepth) + " levels",
               recover_id(line)};
    return r;
  }
  json body = json::parse(line, nullptr, false);
  if (body.is_discarded()) {
    r.error = {ErrorCode::kInvalidJson, "line is not valid JSON", recover_id(line)};
    return r;
  }
  if (!body.is_object()) {
    r.error = {ErrorCode::kInvalidRequest, "a request must be a JSON object", json()};
    return r;
  }
  json id = body.contains("id") ? body["id"] : json();
  if (!is_valid_id(id)) {
    r.error = {ErrorCode::kInvalidRequest, "id must be an integer or a string of at most 128 bytes",
               json()};
    return r;
  }
  auto v = body.find("v");
  if (v == body.end() || !v->is_number_integer()) {
    r.error = {ErrorCode::kInvalidRequest, "missing protocol version: add \"v\":1", id};
    return r;
  }
  if (v->get<std::int64_t>() != kProtocolVersion) {
    r.error = {ErrorCode::kUnsupportedVersion,
               "protocol version " + v->dump() + " is not supported; this daemon speaks v1", id};
    return r;
  }
  auto op = body.find("op");
  if (op == body.end() || !op->is_string() || op->get_ref<const std::string&>().empty()) {
    r.error = {ErrorCode::kInvalidRequest, "missing \"op\" (a string such as \"track\")", id};
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
