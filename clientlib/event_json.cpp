#include "clientlib/event_json.hpp"

#include <cmath>

#include "common/utf8.hpp"
#include "ipc/protocol.hpp"

namespace dollhouse::telemetry::detail {
namespace {

using nlohmann::json;

void put_optional(json& object, const char* key, const std::string& value) {
  if (!value.empty()) object[key] = value;
}

json envelope(const char* op) {
  return json{{"v", ipc::kProtocolVersion}, {"op", op}};
}

// Invalid UTF-8 from the app is replaced rather than thrown about.
std::optional<std::string> to_line(const json& request) {
  std::string line = request.dump(-1, ' ', false, json::error_handler_t::replace);
  if (line.size() > ipc::kMaxLineBytes) return std::nullopt;
  line.push_back('\n');
  return line;
}

}  // namespace

json installation_event(const InstallationEvent& event) {
  json out = {{"eventType", "installation"},
              {"installMethod", event.install_method},
              {"installType", event.install_type}};
  put_optional(out, "previousVersion", event.previous_version);
  return out;
}

json update_event(const UpdateEvent& event) {
  json out = {{"eventType", "update"},
              {"fromVersion", event.from_version},
              {"toVersion", event.to_version},
              {"success", event.success},
              {"durationMs", event.duration_ms}};
  put_optional(out, "errorCategory", event.error_category);
  return out;
}

json failure_event(std::string_view event_type, const FailureEvent& event) {
  return json{{"eventType", event_type},
              {"errorType", event.error_type},
              {"errorCategory", event.error_category},
              {"errorMessage", event.error_message},
              {"component", event.component},
              {"recovered", event.recovered}};
}

std::optional<json> parse_event_object(std::string_view text) {
  if (text.size() > ipc::kMaxLineBytes || !dollhouse::is_valid_utf8(text)) return std::nullopt;
  // The track request adds one level around the event. Checked before parsing so that hostile
  // nesting never reaches the parser.
  if (ipc::json_nesting_depth(text) + 1 > ipc::kMaxNestingDepth) return std::nullopt;
  json parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
  return parsed;
}

namespace {

// Appends `text` as a JSON string the way json::dump does for valid UTF-8: quotes, backslashes
// and control characters escaped, everything else as it is.
void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the bytes not yet copied
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.substr(run, i - run));
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
    }
  }
  out.append(text.substr(run));
  out.push_back('"');
}

}  // namespace

std::optional<std::string> failure_line(std::string_view event_type, const FailureEvent& event) {
  // Text that is not UTF-8 takes the general path, whose replacement characters are the rule.
  for (std::string_view text :
       {event_type, std::string_view(event.error_type), std::string_view(event.error_category),
        std::string_view(event.error_message), std::string_view(event.component)}) {
    if (!dollhouse::is_valid_utf8(text)) return track_line(failure_event(event_type, event));
  }
  // The members in json's order (sorted by name), as track_line writes them.
  std::string line;
  line.reserve(128 + event.error_type.size() + event.error_category.size() +
               event.error_message.size() + event.component.size());
  line += R"({"event":{"component":)";
  append_json_string(line, event.component);
  line += R"(,"errorCategory":)";
  append_json_string(line, event.error_category);
  line += R"(,"errorMessage":)";
  append_json_string(line, event.error_message);
  line += R"(,"errorType":)";
  append_json_string(line, event.error_type);
  line += R"(,"eventType":)";
  append_json_string(line, event_type);
  line += event.recovered ? R"(,"recovered":true},"op":"track","v":)"
                          : R"(,"recovered":false},"op":"track","v":)";
  line += std::to_string(ipc::kProtocolVersion);
  line += '}';
  if (line.size() > ipc::kMaxLineBytes) return std::nullopt;
  line.push_back('\n');
  return line;
}

std::optional<std::string> track_line(const json& event) {
  if (!event.is_object()) return std::nullopt;
  json request = envelope("track");
  request["event"] = event;
  return to_line(request);
}

std::optional<std::string> usage_line(const Usage& usage) {
  json counters = json::object();
  for (const auto& [name, value] : usage.counters) {
    if (!name.empty()) counters[name] = value;
  }
  json timings = json::object();
  for (const auto& [name, ms] : usage.timings_ms) {
    if (!name.empty() && std::isfinite(ms) && ms >= 0) timings[name] = ms;
  }
  if (counters.empty() && timings.empty()) return std::nullopt;
  json request = envelope("usage");
  request["counters"] = std::move(counters);
  request["timings"] = std::move(timings);
  return to_line(request);
}

std::string hello_line(const ClientOptions& options, std::int64_t id, const json& setup) {
  json request = envelope("hello");
  request["id"] = id;
  request["app"] = options.app;
  request["appVersion"] = options.app_version;
  put_optional(request, "nodeVersion", options.node_version);
  put_optional(request, "mcpClient", options.mcp_client);
  if (setup.is_array() && !setup.empty()) request["setup"] = setup;
  // Names and versions are short; an absurd one is cut rather than making hello fail.
  std::string line = request.dump(-1, ' ', false, json::error_handler_t::replace);
  if (line.size() > ipc::kMaxLineBytes) {
    request["app"] = options.app.substr(0, 256);
    request["appVersion"] = options.app_version.substr(0, 256);
    request.erase("nodeVersion");
    request.erase("mcpClient");
    request.erase("setup");
    line = request.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  line.push_back('\n');
  return line;
}

std::string sync_line(std::int64_t id) {
  json request = envelope("sync");
  request["id"] = id;
  return request.dump() + "\n";
}

std::optional<Reply> parse_reply(std::string_view line) {
  json body = json::parse(line, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return std::nullopt;
  auto id = body.find("id");
  if (id == body.end() || !id->is_number_integer()) return std::nullopt;
  Reply reply;
  reply.id = id->get<std::int64_t>();
  auto ok = body.find("ok");
  reply.ok = ok != body.end() && ok->is_boolean() && ok->get<bool>();
  reply.body = std::move(body);
  return reply;
}

namespace {

ConsentAnswer answer_of(const std::string& state) {
  if (state == "not_answered") return ConsentAnswer::kNotAnswered;
  if (state == "declined") return ConsentAnswer::kDeclined;
  if (state == "given") return ConsentAnswer::kGiven;
  if (state == "withdrawn") return ConsentAnswer::kWithdrawn;
  return ConsentAnswer::kUnknown;
}

std::string string_at(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

HelloOutcome read_hello_reply(const json& body) {
  HelloOutcome out;
  if (!body.is_object()) return out;
  if (auto consent = body.find("consent"); consent != body.end() && consent->is_object()) {
    out.consent.answer = answer_of(string_at(*consent, "state"));
    auto enabled = consent->find("enabled");
    out.consent.collecting =
        enabled != consent->end() && enabled->is_boolean() && enabled->get<bool>();
    out.consent.blocked_by = string_at(*consent, "blockedBy");
    bool crash_on = false;
    if (auto categories = consent->find("categories");
        categories != consent->end() && categories->is_object()) {
      auto crash = categories->find("crash");
      crash_on = crash != categories->end() && crash->is_boolean() && crash->get<bool>();
    }
    out.consent.crash_reports =
        out.consent.collecting && crash_on && out.consent.answer == ConsentAnswer::kGiven;
  }
  if (auto setup = body.find("setup"); setup != body.end() && setup->is_object()) {
    for (const auto& [key, value] : setup->items()) {
      if (value.is_string()) out.setup[key] = value.get<std::string>();
    }
  }
  return out;
}

std::string setup_key(const json& event) {
  if (string_at(event, "eventType") == "update") return "update " + string_at(event, "toVersion");
  return "installation";
}

bool setup_settled(const HelloOutcome& outcome, const json& event) {
  auto it = outcome.setup.find(setup_key(event));
  if (it == outcome.setup.end()) return outcome.setup.count("invalid") > 0;
  return it->second == "counted" || it->second == "already_counted" ||
         it->second == "not_collected";
}

std::optional<std::string> with_id(const std::string& line, std::int64_t id) {
  json request = json::parse(line, nullptr, false);
  if (request.is_discarded() || !request.is_object()) return std::nullopt;
  request["id"] = id;
  return to_line(request);
}

std::string verdict_of(const Reply& reply) {
  const json& body = reply.body;
  if (reply.ok) {
    auto accepted = body.find("accepted");
    if (accepted != body.end() && accepted->is_boolean() && accepted->get<bool>()) return "stored";
    std::string reason = string_at(body, "reason");
    return "dropped: " + (reason.empty() ? std::string("not accepted") : reason);
  }
  auto error = body.find("error");
  if (error == body.end() || !error->is_object()) return "error: the daemon gave no reason";
  std::string text = string_at(*error, "code") + ": " + string_at(*error, "message");
  const std::string path = string_at(*error, "path");
  const std::string expected = string_at(*error, "expected");
  if (!path.empty() || !expected.empty()) {
    text += " (at " + (path.empty() ? std::string("/") : path);
    if (!expected.empty()) text += ", expected " + expected;
    text += ")";
  }
  return text;
}

std::string echo_subject(const std::string& line) {
  json request = json::parse(line, nullptr, false);
  if (request.is_discarded() || !request.is_object()) return line.empty() ? "event" : line;
  const std::string op = string_at(request, "op");
  if (op == "track" && request.contains("event")) {
    return "track " + request["event"].dump(-1, ' ', false, json::error_handler_t::replace);
  }
  if (op == "usage") {
    json shown = {{"counters", request.value("counters", json::object())},
                  {"timings", request.value("timings", json::object())}};
    return "usage " + shown.dump();
  }
  if (!op.empty()) return op;
  return line;
}

}  // namespace dollhouse::telemetry::detail
