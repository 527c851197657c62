#include "daemon/event_stamp.hpp"

namespace dollhouse::daemon {

nlohmann::json stamp_event(nlohmann::json body, const AppInfo& app, const PlatformInfo& platform,
                           const std::string& install_id, SystemTime now) {
  // Member by member: an initializer list would build every value twice.
  nlohmann::json& fields = body["platform"];
  fields = nlohmann::json::object();
  fields["os"] = platform.os;
  fields["osVersion"] = platform.os_version;
  fields["arch"] = platform.arch;
  fields["mcpClient"] = app.mcp_client.empty() ? std::string("unknown") : app.mcp_client;
  if (!app.node_version.empty()) fields["nodeVersion"] = app.node_version;
  body["timestamp"] = format_iso8601(now);
  body["installId"] = install_id;
  body["app"] = app.app;
  body["version"] = app.app_version;
  return body;
}

}  // namespace dollhouse::daemon
