// hello: names the connection's app. Required before track and usage, since the daemon stamps
// the app's version and runtime on its events.
#include "daemon/commands/command_table.hpp"
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

void handle_hello(CommandContext& ctx, const std::shared_ptr<Connection>& connection,
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
    connection->reply_error(
        req.id, ipc::ErrorCode::kInvalidRequest,
        "hello needs \"app\": a name of letters, digits and -_.@/ (at most 64)");
    return;
  }
  auto version = app_version ? privacy::cut_to_major_minor(*app_version) : std::nullopt;
  if (!app_version || app_version->empty() || app_version->size() > privacy::kMaxVersionLength ||
      !version) {
    connection->reply_error(req.id, ipc::ErrorCode::kInvalidRequest,
                            "hello needs \"appVersion\", a version such as \"1.9.16\"");
    return;
  }
  if (!node_version || !mcp_client) {
    connection->reply_error(req.id, ipc::ErrorCode::kInvalidRequest,
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
  connection->app = std::move(info);
  connection->reply_ok(req.id, {{"protocol", ipc::kProtocolVersion},
                                {"daemonVersion", ctx.facts.version},
                                {"consent", ctx.consent.summary()}});
}

}  // namespace dollhouse::daemon
