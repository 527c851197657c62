#include "daemon/event_stamp.hpp"

namespace dollhouse::daemon {

nlohmann::json stamp_event(nlohmann::json body, const AppInfo& app, const PlatformInfo& platform,
                           const std::string& install_id, SystemTime now) {
  nlohmann::json fields = {{"os", platform.os},
                           {"osVersion", platform.os_version},
                           {"arch", platform.arch},
                           {"mcpClient", app.mcp_client.empty() ? "unknown" : app.mcp_client}};
  if (!app.node_version.empty()) fields["nodeVersion"] = app.node_version;
  body["timestamp"] = format_iso8601(now);
  body["installId"] = install_id;
  body["app"] = app.app;
  body["version"] = app.app_version;
  body["platform"] = std::move(fields);
  return body;
}

}  // namespace dollhouse::daemon
