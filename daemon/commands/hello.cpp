// hello: names the connection's app. Required before track and usage, since the daemon stamps
// the app's version and runtime on its events.
#include "daemon/commands/command_table.hpp"
#include "daemon/daemon.hpp"
#include "daemon/settings.hpp"

namespace dollhouse::daemon {

namespace {

bool is_plain_name(const std::string& s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == '@' || c == '/';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

void handle_hello(Daemon& daemon, const std::shared_ptr<Session>& session,
                  const ipc::Request& req) {
  const auto& b = req.body;
  auto str = [&](const char* key) -> std::optional<std::string> {
    auto it = b.find(key);
    if (it == b.end() || it->is_null()) return std::string();
    if (!it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  auto app = str("app");
  auto app_version = str("appVersion");
  auto node_version = str("nodeVersion");
  auto mcp_client = str("mcpClient");
  if (!app || !is_plain_name(*app, kMaxAppNameLength)) {
    session->reply_error(req.id, ipc::errc::kInvalidRequest,
                         "hello needs \"app\": a name of letters, digits and -_.@/ (at most 64)");
    return;
  }
  auto version = app_version ? privacy::cut_to_major_minor(*app_version) : std::nullopt;
  if (!app_version || app_version->empty() || app_version->size() > privacy::kMaxVersionLength ||
      !version) {
    session->reply_error(req.id, ipc::errc::kInvalidRequest,
                         "hello needs \"appVersion\", a version such as \"1.9.16\"");
    return;
  }
  if (!node_version || !mcp_client) {
    session->reply_error(req.id, ipc::errc::kInvalidRequest,
                         "nodeVersion and mcpClient must be strings when given");
    return;
  }
  AppInfo info;
  info.known = true;
  info.app = *app;
  info.app_version = *app_version;
  if (!node_version->empty()) {
    info.node_version = privacy::cut_to_major_minor(*node_version).value_or("");
  }
  info.mcp_client = privacy::normalize_mcp_client(*mcp_client);
  session->app = std::move(info);
  session->reply_ok(req.id, {{"protocol", ipc::kProtocolVersion},
                             {"daemonVersion", DOLLHOUSE_VERSION},
                             {"consent", daemon.consent_summary()}});
}

}  // namespace dollhouse::daemon
