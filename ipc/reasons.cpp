#include "ipc/reasons.hpp"

#include <array>
#include <ostream>
#include <utility>

#include <nlohmann/json.hpp>

namespace dollhouse::ipc {

namespace {

// One table per enum, in declaration order: value i is spelled kNames[i].
constexpr std::array<std::string_view, 4> kBlockerNames = {"kill_switch", "no_consent",
                                                           "policy_outdated", "disabled"};
constexpr std::array<std::string_view, 16> kDropReasonNames = {
    "kill_switch",        "no_consent",
    "policy_outdated",    "disabled",
    "category_off",       "category_off.performance",
    "no_hello",           "invalid_event",
    "pii_detected",       "storage_error",
    "withdrawn",          "deleted_remote",
    "evicted_retention",  "evicted_size",
    "rejected_by_server", "app_off"};
constexpr std::array<std::string_view, 16> kErrorCodeNames = {
    "line_too_long",   "invalid_utf8",        "invalid_json",    "too_deep",
    "invalid_request", "unsupported_version", "unknown_op",      "hello_required",
    "invalid_event",   "pii_detected",        "policy_outdated", "not_configured",
    "overloaded",      "storage_error",       "io_error",        "internal"};

constexpr std::array<std::string_view, 4> kConsentAnswerNames = {"not_answered", "declined",
                                                                 "given", "withdrawn"};

static_assert(kBlockerNames.size() == static_cast<std::size_t>(Blocker::kDisabled) + 1);
static_assert(kDropReasonNames.size() == static_cast<std::size_t>(DropReason::kAppOff) + 1);
static_assert(kConsentAnswerNames.size() ==
              static_cast<std::size_t>(ConsentAnswer::kWithdrawn) + 1);
static_assert(kErrorCodeNames.size() == static_cast<std::size_t>(ErrorCode::kInternal) + 1);

template <typename Enum, std::size_t N>
std::optional<Enum> parse_with(const std::array<std::string_view, N>& names,
                               std::string_view text) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == text) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

}  // namespace

DropReason drop_reason_of(Blocker blocker) {
  switch (blocker) {
    case Blocker::kKillSwitch:
      return DropReason::kKillSwitch;
    case Blocker::kNoConsent:
      return DropReason::kNoConsent;
    case Blocker::kPolicyOutdated:
      return DropReason::kPolicyOutdated;
    case Blocker::kDisabled:
      return DropReason::kDisabled;
  }
  return DropReason::kDisabled;
}

std::string_view to_string(Blocker value) {
  return kBlockerNames.at(static_cast<std::size_t>(value));
}
std::string_view to_string(DropReason value) {
  return kDropReasonNames.at(static_cast<std::size_t>(value));
}
std::string_view to_string(ErrorCode value) {
  return kErrorCodeNames.at(static_cast<std::size_t>(value));
}

std::string_view to_string(ConsentAnswer value) {
  return kConsentAnswerNames.at(static_cast<std::size_t>(value));
}

std::optional<Blocker> parse_blocker(std::string_view text) {
  return parse_with<Blocker>(kBlockerNames, text);
}
std::optional<DropReason> parse_drop_reason(std::string_view text) {
  return parse_with<DropReason>(kDropReasonNames, text);
}
std::optional<ErrorCode> parse_error_code(std::string_view text) {
  return parse_with<ErrorCode>(kErrorCodeNames, text);
}

std::optional<ConsentAnswer> parse_consent_answer(std::string_view text) {
  return parse_with<ConsentAnswer>(kConsentAnswerNames, text);
}

void to_json(nlohmann::json& j, Blocker value) {
  j = std::string(to_string(value));
}
void to_json(nlohmann::json& j, DropReason value) {
  j = std::string(to_string(value));
}
void to_json(nlohmann::json& j, ErrorCode value) {
  j = std::string(to_string(value));
}

void to_json(nlohmann::json& j, ConsentAnswer value) {
  j = std::string(to_string(value));
}

std::ostream& operator<<(std::ostream& out, Blocker value) {
  return out << to_string(value);
}
std::ostream& operator<<(std::ostream& out, DropReason value) {
  return out << to_string(value);
}
std::ostream& operator<<(std::ostream& out, ErrorCode value) {
  return out << to_string(value);
}

std::ostream& operator<<(std::ostream& out, ConsentAnswer value) {
  return out << to_string(value);
}

}  // namespace dollhouse::ipc
