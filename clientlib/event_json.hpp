// Protocol lines the client library sends, built from the public event structs.
//
// Pure functions: no I/O, no shared state, safe from any thread. Each returns one complete
// wire protocol v1 line (newline included) or nullopt when the input cannot make a valid line
// (not a JSON object, nested too deep, longer than ipc::kMaxLineBytes). They may throw
// std::bad_alloc; the Client catches it at its boundary.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "dollhouse/telemetry.hpp"

namespace dollhouse::telemetry::detail {

// Event objects in the seed's camelCase; empty optional strings are left out.
nlohmann::json installation_event(const InstallationEvent& event);
nlohmann::json update_event(const UpdateEvent& event);
// `event_type` is "crash" or "error".
nlohmann::json failure_event(std::string_view event_type, const FailureEvent& event);

// Parses an app-supplied event: well-formed UTF-8 JSON text whose top level is an object and
// whose nesting still fits the protocol once wrapped in a track request.
std::optional<nlohmann::json> parse_event_object(std::string_view text);

// {"v":1,"op":"track","event":{...}} without an id (fire-and-forget).
std::optional<std::string> track_line(const nlohmann::json& event);
// track_line(failure_event(event_type, event)), byte for byte, written without building a JSON
// document: the line an app's error handler pays for.
std::optional<std::string> failure_line(std::string_view event_type, const FailureEvent& event);
// {"v":1,"op":"usage","counters":{...},"timings":{...}}; non-finite timings are left out.
// nullopt as well when nothing is left to send.
std::optional<std::string> usage_line(const Usage& usage);
// {"v":1,"op":"hello","id":id,"app":...,"appVersion":...,"nodeVersion"?,"mcpClient"?,"setup"?}
// `setup` (installation and update events) is left out when empty.
std::string hello_line(const ClientOptions& options, std::int64_t id,
                       const nlohmann::json& setup = nlohmann::json::array());
// {"v":1,"op":"sync","id":id}
std::string sync_line(std::int64_t id);

// A reply line's "id" when it is an integer, else nullopt (never throws on bad input).
struct Reply {
  std::int64_t id = 0;
  bool ok = false;
  nlohmann::json body;
};
std::optional<Reply> parse_reply(std::string_view line);

// What a hello reply says: the consent summary and the outcome of each setup report, keyed as
// the daemon keys them ("installation", "update <toVersion>", "invalid").
struct HelloOutcome {
  ConsentView consent;
  std::map<std::string, std::string> setup;
};
HelloOutcome read_hello_reply(const nlohmann::json& body);
// The key the daemon gives a setup report: "installation" or "update <toVersion>".
std::string setup_key(const nlohmann::json& event);
// Whether `event` needs no further hello: counted, already_counted or not_collected, or
// invalid (the daemon named no outcome for it but refused an item).
bool setup_settled(const HelloOutcome& outcome, const nlohmann::json& event);

// The developer echo: `line` (a track or usage line without id) with "id":id added.
std::optional<std::string> with_id(const std::string& line, std::int64_t id);
// "stored", "dropped: no_consent", or "invalid_event: <message> (at /path, expected ...)".
std::string verdict_of(const Reply& reply);
// What the echo prints for a line: "track {event}" or "usage {counters, timings}".
std::string echo_subject(const std::string& line);

}  // namespace dollhouse::telemetry::detail
