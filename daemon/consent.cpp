#include "daemon/consent.hpp"

#include <charconv>

#include "privacy/privacy.hpp"

namespace dollhouse::daemon {

int compare_policy_versions(std::string_view a, std::string_view b) {
  auto next_part = [](std::string_view& s) -> long {
    long value = 0;
    auto dot = s.find('.');
    std::string_view part = s.substr(0, dot);
    std::from_chars(part.data(), part.data() + part.size(), value);
    s = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
    return value;
  };
  while (!a.empty() || !b.empty()) {
    long x = next_part(a);
    long y = next_part(b);
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

std::optional<ipc::Blocker> collection_blocker(const TelemetryConfig& config,
                                               const KillSwitch& kill_switch,
                                               std::string_view policy_version) {
  using ipc::Blocker;
  if (kill_switch.off) return Blocker::kKillSwitch;
  if (!config.consent_given) return Blocker::kNoConsent;
  if (config.policy_version.empty() ||
      compare_policy_versions(config.policy_version, policy_version) < 0) {
    return Blocker::kPolicyOutdated;
  }
  if (!config.enabled) return Blocker::kDisabled;
  return std::nullopt;
}

std::optional<ipc::DropReason> drop_reason(const TelemetryConfig& config,
                                           const KillSwitch& kill_switch,
                                           std::string_view policy_version,
                                           const std::string& category, const std::string& app) {
  if (auto blocker = collection_blocker(config, kill_switch, policy_version)) {
    return ipc::drop_reason_of(*blocker);
  }
  if (!config.app_enabled(app)) return ipc::DropReason::kAppOff;
  if (category.empty() || !config.category_enabled(category)) {
    return ipc::DropReason::kCategoryOff;
  }
  return std::nullopt;
}

bool categories_for_level(std::string_view level, std::map<std::string, bool>& out) {
  std::map<std::string, bool> result;
  for (const auto& name : privacy::all_categories()) result[name] = false;
  if (level == "all") {
    for (auto& [name, on] : result) on = true;
  } else if (level == "error") {
    result["crash"] = true;
    result["error"] = true;
  } else if (level == "crash") {
    result["crash"] = true;
  } else if (level != "off") {
    return false;
  }
  out = std::move(result);
  return true;
}

std::string level_of(const std::map<std::string, bool>& categories) {
  for (const char* level : {"all", "error", "crash", "off"}) {
    std::map<std::string, bool> expected;
    categories_for_level(level, expected);
    bool same = true;
    for (const auto& [name, on] : expected) {
      auto it = categories.find(name);
      if ((it == categories.end() ? true : it->second) != on) same = false;
    }
    if (same) return level;
  }
  return "custom";
}

}  // namespace dollhouse::daemon
