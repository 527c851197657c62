// The fields the daemon adds to every event it stores: timestamp (UTC ISO 8601), installId,
// app and version (the app's name and version, from its hello) and platform (os, osVersion and arch
// from the OS itself; nodeVersion and mcpClient from the hello). Apps cannot send any of them.
//
// Pure: the caller passes everything, so the storage thread can stamp too.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "daemon/connection.hpp"
#include "daemon/platform_info.hpp"

namespace dollhouse::daemon {

nlohmann::json stamp_event(nlohmann::json body, const AppInfo& app, const PlatformInfo& platform,
                           const std::string& install_id, SystemTime now);

}  // namespace dollhouse::daemon
