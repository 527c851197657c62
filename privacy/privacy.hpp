// The privacy engine: event schemas, data minimisation and PII scrubbing.
//
// One library shared by the daemon (which applies it to every event an app sends) and the
// reference server (which applies it again, as defence in depth). Everything here is a pure
// function over JSON and strings: no I/O, no logging of content. A Scrubber is immutable after
// construction and may be used from many threads at once.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "privacy/vocabulary.hpp"

namespace dollhouse::privacy {

// The category an event type belongs to, for the per-category consent switches.
// installation -> "installation", update -> "update", crash -> "crash", error -> "error",
// weekly_summary -> "usage". Empty for an unknown type.
std::string category_of(std::string_view event_type);

// The six per-category switch names, in display order: kCategories (privacy/vocabulary.hpp) as
// strings.
const std::vector<std::string>& all_categories();

// What the OS says about the person and machine: the things a scrubber must remove even when no
// generic pattern would catch them.
struct MachineIdentity {
  std::vector<std::string> home_dirs;   // e.g. "/home/alice"
  std::vector<std::string> user_names;  // login names, e.g. "alice"
  std::vector<std::string> real_names;  // GECOS (POSIX) or display name (Windows), "Alice Liddell"
  std::vector<std::string> host_names;  // gethostname() and its first label; computer names

  // Reads the current user and host (getpwuid_r, gethostname, HOME; on Windows the account,
  // display and computer names and the profile directory).
  static MachineIdentity current();
};

class Scrubber {
 public:
  explicit Scrubber(MachineIdentity identity = {});
  ~Scrubber();
  Scrubber(Scrubber&&) noexcept;
  Scrubber& operator=(Scrubber&&) noexcept;

  // Replaces personal data in free text with stable placeholders: <user>, <email>, <ip>, <mac>,
  // <secret>, <host>. Linear in the size of text. `settled`, when given, says whether the
  // result is known clean: then detect() on it is empty, and need not run.
  std::string scrub(std::string_view text, bool* settled = nullptr) const;

  // The name of the first detector that still finds personal data in text ("email", "ipv4",
  // "home_path", "token", ...), or an empty string when text is clean. Never returns content.
  std::string detect(std::string_view text) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The two ways an event fails: its shape (invalid_event) or personal data that scrubbing left
// in it (pii_detected). to_string gives the code the daemon and the server report.
enum class RejectionCode { kInvalidEvent, kPiiDetected };
std::string_view to_string(RejectionCode code);

// Why an event was not accepted. `path` is the JSON path of the field at fault ("/errorType"),
// `expected` what would have been valid ("one of startup|runtime|shutdown|unknown"), `message` a
// sentence for a person. For pii_detected, `expected` names the detector, never the content.
struct Rejection {
  RejectionCode code = RejectionCode::kInvalidEvent;
  std::string path;
  std::string expected;
  std::string message;
};

struct Outcome {
  bool ok = false;
  nlohmann::json event;            // the cleaned event when ok
  std::size_t dropped_fields = 0;  // fields outside the allowlist that were removed
  Rejection rejection;             // when !ok
};

// An event as an app sends it: `eventType` plus that type's own fields, without the fields the
// daemon stamps (timestamp, installId, version, platform); those, if present, are dropped.
// `weekly_summary` is rejected (apps send usage increments instead). Unknown fields are dropped
// and counted; a wrong type or enum rejects the event; strings are bounded; free-text fields lose
// their C0 control characters but tab and line feed, are scrubbed and then checked by the
// detectors (pii_detected when one still fires).
Outcome process_app_event(const nlohmann::json& event, const Scrubber& scrubber);

// A complete event as the daemon uploads it (all five types, including the stamped fields and
// daemon-made weekly_summary). Same rules as above; used by the server.
Outcome process_stamped_event(const nlohmann::json& event, const Scrubber& scrubber);

// "20.10.1" -> "20.10", "v18.2" -> "18.2", "21" -> "21"; nullopt when it is not a version.
std::optional<std::string> cut_to_major_minor(std::string_view version);

// The mcpClient enum (kMcpClients): known values pass, anything else non-empty becomes "other",
// empty becomes "unknown".
std::string normalize_mcp_client(std::string_view client);

// Bounds for strings (bytes; free text is measured without its control characters). A longer
// errorMessage is cut at a UTF-8 character boundary; any other string that is longer rejects
// the event.
inline constexpr std::size_t kMaxVersionLength = 32;
inline constexpr std::size_t kMaxShortTextLength = 128;  // component, errorCategory
inline constexpr std::size_t kMaxMessageLength = 1024;   // errorMessage

}  // namespace dollhouse::privacy
