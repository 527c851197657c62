#include "daemon/apps.hpp"

namespace dollhouse::daemon {

std::string setup_key(const nlohmann::json& event) {
  const std::string type = event.value("eventType", "");
  if (type == "update") return "update " + event.value("toVersion", "");
  return type;
}

void AppRegistry::saw(const AppInfo& app, SystemTime now) {
  auto it = seen_.find(app.app);
  if (it == seen_.end()) {
    if (seen_.size() >= kMaxKnownApps) return;
    it = seen_.emplace(app.app, SeenApp{}).first;
    it->second.first_seen = format_iso8601(now);
  }
  it->second.version = app.app_version;
  it->second.last_seen = format_iso8601(now);
  ++it->second.hellos;
}

void AppRegistry::count_accepted(const std::string& app) {
  if (auto it = seen_.find(app); it != seen_.end()) ++it->second.accepted;
}

void AppRegistry::count_dropped(const std::string& app) {
  if (auto it = seen_.find(app); it != seen_.end()) ++it->second.dropped;
}

bool AppRegistry::hold(SetupReport report) {
  auto it = held_.find(report.app.app);
  if (it == held_.end()) {
    if (held_.size() >= kMaxKnownApps) return false;
    it = held_.emplace(report.app.app, std::vector<SetupReport>{}).first;
  }
  for (auto& held : it->second) {
    if (held.key == report.key) {
      held = std::move(report);  // the latest statement of the same fact
      return true;
    }
  }
  if (it->second.size() >= kMaxSetupReportsPerApp) return false;
  it->second.push_back(std::move(report));
  return true;
}

std::vector<SetupReport> AppRegistry::take_held() {
  std::vector<SetupReport> out;
  for (auto& [app, reports] : held_) {
    for (auto& r : reports) out.push_back(std::move(r));
  }
  held_.clear();
  return out;
}

std::vector<SetupReport> AppRegistry::take_held(const std::string& app) {
  std::vector<SetupReport> out;
  if (auto it = held_.find(app); it != held_.end()) {
    out = std::move(it->second);
    held_.erase(it);
  }
  return out;
}

std::size_t AppRegistry::held_count() const {
  std::size_t n = 0;
  for (const auto& [app, reports] : held_) n += reports.size();
  return n;
}

}  // namespace dollhouse::daemon
