// Placeholder implementation, replaced by the schema and scrubber sources.
#include "privacy/privacy.hpp"

namespace dollhouse::privacy {

std::string category_of(std::string_view t) {
  if (t == "installation" || t == "update" || t == "crash" || t == "error") return std::string(t);
  if (t == "weekly_summary") return "usage";
  return {};
}

const std::vector<std::string>& all_categories() {
  static const std::vector<std::string> k = {"installation", "update", "crash",
                                             "error",        "usage",  "performance"};
  return k;
}

MachineIdentity MachineIdentity::current() { return {}; }

struct Scrubber::Impl {
  MachineIdentity identity;
};
Scrubber::Scrubber(MachineIdentity identity) : impl_(new Impl{std::move(identity)}) {}
Scrubber::~Scrubber() = default;
Scrubber::Scrubber(Scrubber&&) noexcept = default;
Scrubber& Scrubber::operator=(Scrubber&&) noexcept = default;
std::string Scrubber::scrub(std::string_view text) const { return std::string(text); }
std::string Scrubber::detect(std::string_view) const { return {}; }

Outcome process_app_event(const nlohmann::json& event, const Scrubber&) {
  Outcome o;
  if (!event.is_object() || !event.contains("eventType") || !event["eventType"].is_string() ||
      category_of(event["eventType"].get<std::string>()).empty() ||
      event["eventType"] == "weekly_summary") {
    o.rejection = {"invalid_event", "/eventType", "one of installation|update|crash|error",
                   "eventType is missing or unknown"};
    return o;
  }
  o.ok = true;
  o.event = event;
  return o;
}

Outcome process_stamped_event(const nlohmann::json& event, const Scrubber& s) {
  return process_app_event(event, s);
}

std::optional<std::string> cut_to_major_minor(std::string_view version) {
  if (!version.empty() && version[0] == 'v') version.remove_prefix(1);
  std::string out;
  int dots = 0;
  for (char c : version) {
    if (c == '.') {
      if (++dots == 2) break;
    } else if (c < '0' || c > '9') {
      break;
    }
    out.push_back(c);
  }
  if (out.empty() || out.back() == '.') return std::nullopt;
  return out;
}

std::string normalize_mcp_client(std::string_view c) {
  if (c.empty()) return "unknown";
  if (c == "claude-desktop" || c == "claude-code" || c == "gemini" || c == "other" ||
      c == "unknown")
    return std::string(c);
  return "other";
}

}  // namespace dollhouse::privacy
