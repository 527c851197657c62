// Consent rules: may an event of a given category be stored now?
//
// Pure functions of the config, the environment kill switch and this daemon's policy version,
// so every rule is unit-tested without a daemon. Order of precedence: a kill switch, then no
// recorded consent, then consent for an older policy version, then the user's enabled switch,
// then the app's switch, then the category switch.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/environment.hpp"
#include "daemon/config.hpp"
#include "ipc/reasons.hpp"

namespace dollhouse::daemon {

// Why nothing is collected, or nullopt when collection is on.
std::optional<ipc::Blocker> collection_blocker(const TelemetryConfig& config,
                                               const KillSwitch& kill_switch,
                                               std::string_view policy_version);

// Why an event of `category` from `app` may not be stored now: a blocker's reason, app_off when
// the user switched that app off, or category_off when the category's switch is off (or the
// category is unknown); nullopt when it may be stored.
std::optional<ipc::DropReason> drop_reason(const TelemetryConfig& config,
                                           const KillSwitch& kill_switch,
                                           std::string_view policy_version,
                                           const std::string& category, const std::string& app);

// Compares dotted numeric versions ("1.0" < "1.10"); missing parts count as 0.
int compare_policy_versions(std::string_view a, std::string_view b);

// Collection levels (as in VS Code's telemetry.telemetryLevel) over the category switches:
// all: every category; error: crash and error reports; crash: crash reports only;
// off: nothing. Returns false for an unknown level name.
bool categories_for_level(std::string_view level, std::map<std::string, bool>& out);
// The level the switches amount to, or "custom" when they match none.
std::string level_of(const std::map<std::string, bool>& categories);

}  // namespace dollhouse::daemon
