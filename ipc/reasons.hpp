// The vocabulary the daemon, dollhousectl and the client library share: why collection is off
// (Blocker), why an event was not kept (DropReason), the error codes of wire protocol v1
// (ErrorCode), and the reply fields more than one program reads.
//
// Each enum has exactly one spelling per value, in to_string() and parse_*() here; nothing else
// writes or compares these strings. Pure values, safe on any thread.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace dollhouse::ipc {

// Why nothing is collected, in order of precedence (docs/daemon.md, "When the daemon collects").
enum class Blocker {
  kKillSwitch,      // DO_NOT_TRACK, DOLLHOUSE_TELEMETRY=off or CI in the daemon's environment
  kNoConsent,       // the user has not said yes
  kPolicyOutdated,  // consent was given to an older privacy policy
  kDisabled,        // the user turned collection off
};

// Why a track or usage message (or a stored event) was not kept; counted in status under
// queue.dropped.<reason>.
enum class DropReason {
  kKillSwitch,
  kNoConsent,
  kPolicyOutdated,
  kDisabled,
  kCategoryOff,       // the event's category is switched off
  kPerformanceOff,    // timings of a usage message, with the performance category off
  kNoHello,           // track or usage before hello
  kInvalidEvent,      // failed the schema
  kPiiDetected,       // personal data survived scrubbing
  kStorageError,      // the database could not take it
  kWithdrawn,         // queued, then consent was withdrawn or the category switched off
  kDeletedRemote,     // queued under an installId whose remote deletion was asked for
  kEvictedRetention,  // unsent and older than maxDataRetention
  kEvictedSize,       // unsent and pushed out by the queue's size limits
  kRejectedByServer,  // the server refused the batch for good (a 4xx other than 408/429)
  kAppOff,            // the user switched this app off (telemetry.json apps.<name>.enabled)
};

// What the user answered, as status, export and the consent summary name it: nothing yet; no
// at the first question; yes; yes and later no.
enum class ConsentAnswer {
  kNotAnswered,
  kDeclined,
  kGiven,
  kWithdrawn,
};

// The drop reason a blocker gives an event.
DropReason drop_reason_of(Blocker blocker);

// Error codes of error replies ({"ok":false,"error":{"code",...}}), counted in status under
// protocolErrors. docs/protocol.md has the table.
enum class ErrorCode {
  kLineTooLong,
  kInvalidUtf8,
  kInvalidJson,
  kTooDeep,
  kInvalidRequest,
  kUnsupportedVersion,
  kUnknownOp,
  kHelloRequired,
  kInvalidEvent,
  kPiiDetected,
  kPolicyOutdated,
  kNotConfigured,
  kOverloaded,
  kStorageError,
  kIoError,
  kInternal,
};

std::string_view to_string(Blocker value);
std::string_view to_string(DropReason value);
std::string_view to_string(ErrorCode value);
std::string_view to_string(ConsentAnswer value);
std::optional<Blocker> parse_blocker(std::string_view text);
std::optional<DropReason> parse_drop_reason(std::string_view text);
std::optional<ErrorCode> parse_error_code(std::string_view text);
std::optional<ConsentAnswer> parse_consent_answer(std::string_view text);

// As JSON strings (so json(ErrorCode::kUnknownOp) is "unknown_op"), and for test messages.
void to_json(nlohmann::json& j, Blocker value);
void to_json(nlohmann::json& j, DropReason value);
void to_json(nlohmann::json& j, ErrorCode value);
void to_json(nlohmann::json& j, ConsentAnswer value);
std::ostream& operator<<(std::ostream& out, Blocker value);
std::ostream& operator<<(std::ostream& out, DropReason value);
std::ostream& operator<<(std::ostream& out, ErrorCode value);
std::ostream& operator<<(std::ostream& out, ConsentAnswer value);

// Reply fields that the daemon writes and another program reads.
namespace field {
inline constexpr const char* kBlockedBy = "blockedBy";          // status, consent summary
inline constexpr const char* kDroppedUnsent = "droppedUnsent";  // consent reply
inline constexpr const char* kWasEnabled = "wasEnabled";        // consent reply
// The user's retention setting in days: telemetry.json, status and the consent op.
inline constexpr const char* kMaxDataRetention = "maxDataRetention";
// The policy version the user's consent was recorded for (null before any answer).
inline constexpr const char* kPolicyVersion = "policyVersion";
// The policy version this daemon collects under.
inline constexpr const char* kCurrentPolicyVersion = "currentPolicyVersion";
// The user's answer (ConsentAnswer) in the consent summary, status and export.
inline constexpr const char* kConsentState = "state";
// The apps the daemon knows (seen saying hello, or with a setting): status, consent summary.
inline constexpr const char* kApps = "apps";
// One app's name: the consent op (a choice for that app only) and its reply.
inline constexpr const char* kApp = "app";
// What an app reports at hello about its installation or update before the user answered, and
// what the daemon did with it (hello reply).
inline constexpr const char* kSetup = "setup";
}  // namespace field

}  // namespace dollhouse::ipc
