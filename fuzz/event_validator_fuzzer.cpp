// The event validator of the privacy engine (privacy/schema.cpp) over arbitrary JSON: events as
// apps send them (process_app_event, in the daemon) and as the daemon uploads them
// (process_stamped_event, in the server).
//
// Checked, for every input that is JSON:
// - an accepted event holds only fields the input had (nothing is made up), a known eventType,
//   free text within its length bound and free of anything a detector still finds;
// - validation is a projection: an accepted event, validated again, is accepted unchanged;
// - what the daemon accepts from an app, once stamped, the server accepts unchanged;
// - a pii_detected rejection names a detector and a field, never content.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_checks.hpp"
#include "privacy/privacy.hpp"

namespace {

using dollhouse::fuzz::check;
using nlohmann::json;
namespace privacy = dollhouse::privacy;

const privacy::Scrubber& scrubber() {
  static const privacy::Scrubber kScrubber(dollhouse::fuzz::fixed_identity());
  return kScrubber;
}

// Every key of `out`, at every level, is a key of `in` at the same place.
bool keys_within(const json& out, const json& in) {
  if (!out.is_object()) return true;
  if (!in.is_object()) return false;
  for (const auto& [key, value] : out.items()) {
    auto it = in.find(key);
    if (it == in.end() || !keys_within(value, *it)) return false;
  }
  return true;
}

void check_free_text(const json& event, const char* field, std::size_t limit) {
  auto it = event.find(field);
  if (it == event.end() || !it->is_string()) return;
  const std::string& text = it->get_ref<const std::string&>();
  check(text.size() <= limit, "free text longer than its bound");
  check(scrubber().detect(text).empty(), "free text in which a detector still fires");
}

void check_accepted(const json& in, const privacy::Outcome& outcome, bool from_app) {
  const json& out = outcome.event;
  check(out.is_object(), "an accepted event is not an object");
  check(keys_within(out, in), "an accepted event has a field the input did not have");
  const std::string type = out.value("eventType", std::string());
  check(!privacy::category_of(type).empty(), "an accepted event has an unknown eventType");
  check(!from_app || type != "weekly_summary", "an app's weekly_summary was accepted");
  check_free_text(out, "errorMessage", privacy::kMaxMessageLength);
  check_free_text(out, "component", privacy::kMaxShortTextLength);
  if (type != "update") check_free_text(out, "errorCategory", privacy::kMaxShortTextLength);

  const privacy::Outcome again = from_app ? privacy::process_app_event(out, scrubber())
                                          : privacy::process_stamped_event(out, scrubber());
  check(again.ok, "an accepted event, validated again, is rejected");
  check(again.event == out, "an accepted event, validated again, changes");
  check(again.dropped_fields == 0, "an accepted event, validated again, loses fields");
}

void check_rejected(const privacy::Outcome& outcome) {
  const privacy::Rejection& r = outcome.rejection;
  check(r.path.empty() || r.path.front() == '/', "a rejection's path is not a JSON path");
  check(!r.message.empty(), "a rejection without a message");
  if (r.code == privacy::RejectionCode::kPiiDetected) {
    check(!r.expected.empty() && !r.path.empty(), "a pii_detected rejection names no detector");
    for (char c : r.expected) {
      check((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_',
            "a pii_detected rejection names something other than a detector");
    }
  }
}

// The event as the daemon would upload it: the app's fields plus the ones the daemon stamps.
json stamped(json event) {
  event["timestamp"] = "2025-01-13T09:30:00.123Z";
  event["installId"] = "0b6f1c2e-4d5a-4f7b-9c8d-1e2f3a4b5c6d";
  event["version"] = "1.9.16";
  event["app"] = "@dollhousemcp/mcp-server";
  event["platform"] = {{"os", "linux"},
                       {"osVersion", "Ubuntu 22"},
                       {"arch", "x64"},
                       {"nodeVersion", "20.10"},
                       {"mcpClient", "claude-desktop"}};
  return event;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const json in = json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (in.is_discarded()) return 0;

  const privacy::Outcome from_app = privacy::process_app_event(in, scrubber());
  if (from_app.ok) {
    check_accepted(in, from_app, /*from_app=*/true);
    const json upload = stamped(from_app.event);
    const privacy::Outcome at_server = privacy::process_stamped_event(upload, scrubber());
    check(at_server.ok, "the server rejects an event the daemon accepted");
    check(at_server.event == upload, "the server changes an event the daemon accepted");
  } else {
    check_rejected(from_app);
  }

  const privacy::Outcome uploaded = privacy::process_stamped_event(in, scrubber());
  if (uploaded.ok) {
    check_accepted(in, uploaded, /*from_app=*/false);
  } else {
    check_rejected(uploaded);
  }
  return 0;
}
