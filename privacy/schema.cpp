// Event schemas and the allowlist validator behind process_app_event / process_stamped_event.
//
// Every event type is a list of fields; a field has a type, and is required or optional. The
// validator builds a new event from the allowed fields only, so nothing outside the schema can
// pass through by accident. Messages in a Rejection never quote the rejected value.
//
// Required fields, where the seed leaves a choice:
// - crash: all of errorType, errorCategory, errorMessage, component, recovered (a crash report
//   without any of them cannot be grouped or acted on).
// - error: errorCategory and component (the grouping keys); errorType, errorMessage and recovered
//   are optional, since an app often reports a handled error without more context.
// - installation: installMethod, installType; previousVersion optional.
// - update: fromVersion, toVersion, success, durationMs; errorCategory optional.
// - weekly_summary: weekStart, activeDays, sessionCount and the objects features, performance
//   and health; the counters inside those objects are optional (a week without sessions has no
//   average startup time).
// An optional field sent as null is treated as absent.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/utf8.hpp"
#include "privacy/privacy.hpp"
#include "privacy/text_shapes.hpp"

namespace dollhouse::privacy {
namespace {

using nlohmann::json;

enum class Type {
  kEnum,
  kVersion,
  kShortText,  // free text, scrubbed, at most kMaxShortTextLength
  kMessage,    // free text, scrubbed, cut to kMaxMessageLength
  kBool,
  kCount,       // non-negative integer
  kActiveDays,  // integer 0..7
  kNumber,      // non-negative number
  kTimestamp,
  kUuid,
  kWeekStart,
  kOsVersion,
  kMajorMinor,
  kAppName,  // is_app_name
  kObject,
};

struct Field {
  std::string name;
  Type type;
  bool required;
  std::vector<std::string> values = {};  // kEnum
  std::vector<Field> children = {};      // kObject
};

Field enum_field(std::string name, bool required, std::vector<std::string> values) {
  return Field{std::move(name), Type::kEnum, required, std::move(values)};
}

Field object_field(std::string name, std::vector<Field> children) {
  return Field{std::move(name), Type::kObject, true, {}, std::move(children)};
}

const std::vector<Field>& platform_fields() {
  static const std::vector<Field> kFields = {
      enum_field("os", true, {"windows", "macos", "linux", "unknown"}),
      {"osVersion", Type::kOsVersion, true},
      enum_field("arch", true, {"x64", "arm64", "x86", "unknown"}),
      {"nodeVersion", Type::kMajorMinor, false},
      enum_field("mcpClient", false,
                 std::vector<std::string>(kMcpClients.begin(), kMcpClients.end())),
      {"mcpClientVersion", Type::kMajorMinor, false},
  };
  return kFields;
}

std::vector<Field> failure_fields(bool crash) {
  return {
      enum_field("errorType", crash, {"startup", "runtime", "shutdown", "unknown"}),
      {"errorCategory", Type::kShortText, true},
      {"errorMessage", Type::kMessage, crash},
      {"component", Type::kShortText, true},
      {"recovered", Type::kBool, crash},
  };
}

// The fields an event of this type carries besides eventType and the stamped fields, or null for
// an unknown type.
const std::vector<Field>* own_fields(std::string_view type) {
  static const std::vector<Field> kInstallation = {
      enum_field("installMethod", true, {"npm", "npx", "git-clone", "docker", "unknown"}),
      enum_field("installType", true, {"new", "upgrade", "reinstall"}),
      {"previousVersion", Type::kVersion, false},
  };
  static const std::vector<Field> kUpdate = {
      {"fromVersion", Type::kVersion, true},
      {"toVersion", Type::kVersion, true},
      {"success", Type::kBool, true},
      enum_field("errorCategory", false,
                 {"network", "permissions", "dependencies", "corruption", "unknown"}),
      {"durationMs", Type::kCount, true},
  };
  static const std::vector<Field> kCrash = failure_fields(true);
  static const std::vector<Field> kError = failure_fields(false);
  static const std::vector<Field> kWeekly = {
      {"weekStart", Type::kWeekStart, true},
      {"activeDays", Type::kActiveDays, true},
      {"sessionCount", Type::kCount, true},
      object_field("features", {{"personasUsed", Type::kCount, false},
                                {"skillsUsed", Type::kCount, false},
                                {"templatesUsed", Type::kCount, false},
                                {"agentsUsed", Type::kCount, false},
                                {"memoriesUsed", Type::kCount, false},
                                {"portfolioSyncs", Type::kCount, false},
                                {"collectionBrowses", Type::kCount, false}}),
      object_field("performance", {{"avgStartupTime", Type::kNumber, false},
                                   {"avgResponseTime", Type::kNumber, false}}),
      object_field("health",
                   {{"crashCount", Type::kCount, false}, {"errorCount", Type::kCount, false}}),
  };
  if (type == "installation") return &kInstallation;
  if (type == "update") return &kUpdate;
  if (type == "crash") return &kCrash;
  if (type == "error") return &kError;
  if (type == "weekly_summary") return &kWeekly;
  return nullptr;
}

const std::vector<Field>& stamped_fields() {
  static const std::vector<Field> kFields = {
      {"timestamp", Type::kTimestamp, true},
      {"installId", Type::kUuid, true},
      {"version", Type::kVersion, true},
      // Optional: daemons before per-app consent did not stamp it.
      {"app", Type::kAppName, false},
      object_field("platform", platform_fields()),
  };
  return kFields;
}

bool is_stamped_name(const std::string& name) {
  for (const auto& f : stamped_fields()) {
    if (f.name == name) return true;
  }
  return false;
}

std::string join(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : "|") + v;
  return out;
}

std::string expected_of(const Field& f) {
  switch (f.type) {
    case Type::kEnum:
      return "one of " + join(f.values);
    case Type::kVersion:
      return "a version like 1.9.16 (at most " + std::to_string(kMaxVersionLength) + " bytes)";
    case Type::kShortText:
      return "a non-empty string of at most " + std::to_string(kMaxShortTextLength) + " bytes";
    case Type::kMessage:
      return "a string";
    case Type::kBool:
      return "true or false";
    case Type::kCount:
      return "a non-negative integer";
    case Type::kActiveDays:
      return "an integer from 0 to 7";
    case Type::kNumber:
      return "a non-negative number";
    case Type::kTimestamp:
      return "a UTC timestamp like 2025-01-13T09:30:00Z";
    case Type::kUuid:
      return "a UUID";
    case Type::kWeekStart:
      return "a Monday as YYYY-MM-DD, or a UTC timestamp";
    case Type::kOsVersion:
      return "an OS name and major version like \"Ubuntu 22\"";
    case Type::kMajorMinor:
      return "a version like 20.10";
    case Type::kAppName:
      return "an app name of letters, digits and -_.@/ (at most 64)";
    case Type::kObject:
      return "an object";
  }
  return {};
}

// Free text without the C0 control characters (U+0000 to U+001F) other than tab and line feed:
// they are dropped, not replaced, so that a NUL or an escape sequence inside a word (an address,
// a name, a token) cannot hide it from the scrubber and the detectors, and the stored text holds
// nothing a terminal or a C string would act on. "\r\n" becomes "\n".
std::string without_control_characters(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 && c != '\t' && c != '\n') continue;
    out.push_back(c);
  }
  return out;
}

class Validator {
 public:
  explicit Validator(const Scrubber& scrubber) : scrubber_(scrubber) {}

  // Copies the allowed fields of `in` into `out`; false (with rejection_ set) on the first
  // field at fault. Members whose name `skip` gives true are not looked at, as if absent.
  using Skip = bool (*)(const std::string& name);
  bool object(const json& in, const std::vector<Field>& fields, const std::string& prefix,
              json& out, Skip skip = nullptr) {
    for (const auto& [key, value] : in.items()) {
      if (skip != nullptr && skip(key)) continue;
      bool known = false;
      for (const auto& f : fields) known = known || f.name == key;
      if (!known) ++dropped_;
    }
    for (const auto& f : fields) {
      const std::string path = prefix + "/" + f.name;
      auto it = in.find(f.name);
      if (it != in.end() && skip != nullptr && skip(f.name)) it = in.end();
      if (it == in.end() || (it->is_null() && !f.required)) {
        if (f.required)
          return reject(path, expected_of(f), "required field " + path + " is missing");
        continue;
      }
      if (!value(*it, f, path, out[f.name])) return false;
    }
    return true;
  }

  bool reject(const std::string& path, std::string expected, std::string message,
              RejectionCode code = RejectionCode::kInvalidEvent) {
    rejection_ = Rejection{code, path, std::move(expected), std::move(message)};
    return false;
  }

  std::size_t dropped_ = 0;
  Rejection rejection_;

 private:
  bool wrong(const Field& f, const std::string& path) {
    return reject(path, expected_of(f), "field " + path + " does not have the expected form");
  }

  // `text` is free text without control characters (without_control_characters).
  bool free_text(const std::string& text, const Field& f, const std::string& path, json& out) {
    bool settled = false;
    std::string clean = scrubber_.scrub(text, &settled);
    const std::size_t limit = f.type == Type::kMessage ? kMaxMessageLength : kMaxShortTextLength;
    const std::size_t kept = detail::cut_utf8(clean, limit).size();
    // Cutting can complete a pattern at the new end ("ip-10-0-0-1x" cut before the "x"), so only
    // text that scrubbing left settled and the cut left whole is known clean.
    const bool whole = kept == clean.size();
    if (!whole) clean.resize(kept);
    const std::string detector = settled && whole ? std::string() : scrubber_.detect(clean);
    if (!detector.empty()) {
      return reject(path, detector, "personal data remained in " + path + " after scrubbing",
                    RejectionCode::kPiiDetected);
    }
    out = std::move(clean);
    return true;
  }

  bool value(const json& v, const Field& f, const std::string& path, json& out) {
    if (f.type == Type::kObject) {
      if (!v.is_object()) return wrong(f, path);
      out = json::object();
      return object(v, f.children, path, out);
    }
    if (f.type == Type::kBool) {
      if (!v.is_boolean()) return wrong(f, path);
      out = v;
      return true;
    }
    if (f.type == Type::kCount || f.type == Type::kActiveDays) {
      if (!v.is_number_integer()) return wrong(f, path);
      if (!v.is_number_unsigned() && v.get<std::int64_t>() < 0) return wrong(f, path);
      if (f.type == Type::kActiveDays && v.get<std::uint64_t>() > 7) return wrong(f, path);
      out = v;
      return true;
    }
    if (f.type == Type::kNumber) {
      if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0) {
        return wrong(f, path);
      }
      out = v;
      return true;
    }
    if (!v.is_string()) return wrong(f, path);
    const auto& s = v.get_ref<const std::string&>();
    if (!dollhouse::is_valid_utf8(s)) {
      return reject(path, "valid UTF-8", "field " + path + " is not valid UTF-8");
    }
    switch (f.type) {
      case Type::kEnum:
        for (const auto& allowed : f.values) {
          if (s == allowed) return (out = s, true);
        }
        return wrong(f, path);
      case Type::kVersion:
        if (!detail::is_version(s)) return wrong(f, path);
        out = s;
        return true;
      case Type::kShortText: {
        const std::string text = without_control_characters(s);
        if (text.empty() || text.size() > kMaxShortTextLength) return wrong(f, path);
        return free_text(text, f, path, out);
      }
      case Type::kMessage:
        return free_text(without_control_characters(s), f, path, out);
      case Type::kTimestamp:
        if (!detail::is_utc_timestamp(s)) return wrong(f, path);
        out = s;
        return true;
      case Type::kUuid:
        if (!dollhouse::is_uuid(s)) return wrong(f, path);
        out = s;
        return true;
      case Type::kWeekStart: {
        bool monday = false;
        if (!(detail::is_calendar_date(s, &monday) && monday) && !detail::is_utc_timestamp(s)) {
          return wrong(f, path);
        }
        out = s;
        return true;
      }
      case Type::kOsVersion: {
        auto minimal = detail::minimize_os_version(s);
        if (!minimal) return wrong(f, path);
        out = *minimal;
        return true;
      }
      case Type::kMajorMinor: {
        auto minimal = cut_to_major_minor(s);
        if (!minimal) return wrong(f, path);
        out = *minimal;
        return true;
      }
      case Type::kAppName:
        if (!is_app_name(s)) return wrong(f, path);
        out = s;
        return true;
      default:
        return wrong(f, path);
    }
  }

  const Scrubber& scrubber_;
};

Outcome process(const json& event, const Scrubber& scrubber, bool from_app) {
  Outcome outcome;
  Validator validator(scrubber);
  const char* type_choices = from_app ? "one of installation|update|crash|error"
                                      : "one of installation|update|crash|error|weekly_summary";
  if (!event.is_object()) {
    validator.reject("", "a JSON object", "an event must be a JSON object");
    outcome.rejection = validator.rejection_;
    return outcome;
  }
  const auto type_it = event.find("eventType");
  const std::vector<Field>* fields = nullptr;
  if (type_it != event.end() && type_it->is_string()) {
    fields = own_fields(type_it->get_ref<const std::string&>());
  }
  if (fields == nullptr || (from_app && *type_it == "weekly_summary")) {
    const bool weekly = fields != nullptr;
    validator.reject("/eventType", type_choices,
                     weekly ? "weekly_summary events are made by the daemon, not sent by apps"
                            : "eventType is missing or not a known event type");
    outcome.rejection = validator.rejection_;
    return outcome;
  }

  // The app's view of the event: eventType plus its own fields. Stamped fields an app sends are
  // ignored (and counted), so an app cannot forge or enrich them. The event is read in place:
  // its own fields are the members neither eventType nor stamped, the stamped ones the rest.
  json out = json::object();
  out["eventType"] = *type_it;
  bool ok = true;
  if (from_app) {
    for (const auto& [key, value] : event.items()) {
      if (is_stamped_name(key)) ++validator.dropped_;
    }
  } else {
    ok = validator.object(event, stamped_fields(), "", out,
                          [](const std::string& name) { return !is_stamped_name(name); });
  }
  ok = ok && validator.object(event, *fields, "", out, [](const std::string& name) {
    return name == "eventType" || is_stamped_name(name);
  });
  outcome.dropped_fields = validator.dropped_;
  if (!ok) {
    outcome.rejection = validator.rejection_;
    return outcome;
  }
  outcome.ok = true;
  outcome.event = std::move(out);
  return outcome;
}

}  // namespace

std::string_view to_string(RejectionCode code) {
  return code == RejectionCode::kPiiDetected ? "pii_detected" : "invalid_event";
}

Outcome process_app_event(const nlohmann::json& event, const Scrubber& scrubber) {
  return process(event, scrubber, /*from_app=*/true);
}

Outcome process_stamped_event(const nlohmann::json& event, const Scrubber& scrubber) {
  return process(event, scrubber, /*from_app=*/false);
}

}  // namespace dollhouse::privacy
