// The fixed word lists that consent and events share: the per-category consent switches, the
// values of platform.mcpClient and the shape of an app's name. Each list is spelled here only; the
// schema, the normalisers, the daemon's consent and dollhousectl's flags use it from here.
//
// Header-only and constexpr, so that programs that do not link the privacy engine (dollhousectl,
// also in the Windows build) can use the lists too. Safe from any thread.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>

namespace dollhouse::privacy {

// The consent categories, in display order.
inline constexpr std::array<std::string_view, 6> kCategories = {
    "installation", "update", "crash", "error", "usage", "performance"};

// The values platform.mcpClient may take; anything else is normalised to "other", an empty
// value to "unknown".
inline constexpr std::array<std::string_view, 5> kMcpClients = {"claude-desktop", "claude-code",
                                                                "gemini", "other", "unknown"};

constexpr bool is_category(std::string_view name) {
  return std::find(kCategories.begin(), kCategories.end(), name) != kCategories.end();
}

// An app's name (hello's "app", the event's "app", telemetry.json's apps): 1 to
// kMaxAppNameLength letters, digits and -_.@/, so npm names such as "@scope/name" fit and no
// name can carry free text.
inline constexpr std::size_t kMaxAppNameLength = 64;

constexpr bool is_app_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxAppNameLength) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == '@' || c == '/';
    if (!ok) return false;
  }
  return true;
}

}  // namespace dollhouse::privacy
