#include "daemon/status_report.hpp"

#include <map>

#include "daemon/consent.hpp"
#include "daemon/counters.hpp"
#include "daemon/settings.hpp"
#include "daemon/upload/uploader.hpp"

namespace dollhouse::daemon {

using nlohmann::json;

namespace {

// Every app the daemon knows: seen since it started, or with a setting in telemetry.json.
json apps_json(const TelemetryConfig& config, const AppRegistry& apps) {
  std::map<std::string, json> out;
  for (const auto& [name, app] : config.apps) {
    out[name] = {{"name", name}, {"enabled", app.enabled}, {"seen", false}};
  }
  for (const auto& [name, seen] : apps.seen()) {
    json& entry = out[name];
    if (entry.is_null()) entry = {{"name", name}, {"enabled", config.app_enabled(name)}};
    entry["seen"] = true;
    entry["version"] = seen.version;
    entry["lastSeen"] = seen.last_seen;
    entry["accepted"] = seen.accepted;
    entry["dropped"] = seen.dropped;
  }
  json list = json::array();
  for (auto& [name, entry] : out) list.push_back(std::move(entry));
  return list;
}

}  // namespace

json status_base(const ConsentState& consent, const AppRegistry& apps, json upload,
                 const DaemonFacts& facts, const ConnectionCounts& connections) {
  const TelemetryConfig& config = consent.config();
  const KillSwitch& ks = consent.kill_switch();
  const auto blocker = consent.blocker();
  const bool consent_valid = config.consent_given && blocker != ipc::Blocker::kPolicyOutdated &&
                             blocker != ipc::Blocker::kNoConsent;
  json consent_json = {
      {"given", config.consent_given},
      {ipc::field::kConsentState, config.answer},
      {"timestamp", config.consent_timestamp.empty() ? json() : json(config.consent_timestamp)},
      {ipc::field::kPolicyVersion,
       config.policy_version.empty() ? json() : json(config.policy_version)},
      {ipc::field::kCurrentPolicyVersion, kPolicyVersion},
      {"valid", consent_valid}};
  return {{"enabled", !blocker.has_value()},
          {ipc::field::kBlockedBy, blocker ? json(*blocker) : json()},
          {"overriddenBy", ks.off ? json(ks.overridden_by) : json()},
          {"overrideDetail", ks.off ? json(ks.detail) : json()},
          {"userEnabled", config.enabled},
          {"consent", consent_json},
          {"categories", config.categories},
          {"level", level_of(config.categories)},
          {"installId", config.install_id.empty() ? json() : json(config.install_id)},
          {ipc::field::kMaxDataRetention, config.max_data_retention},
          {ipc::field::kApps, apps_json(config, apps)},
          {"upload", std::move(upload)},
          {"daemon",
           {{"version", facts.version},
            {"pid", facts.pid},
            {"startedAt", facts.started_at},
            {"dataRoot", facts.data_root},
            {"socket", facts.socket_path},
            {"connections", connections.open},
            {"connectionsTotal", connections.total}}}};
}

Result<json> complete_status(json status, StorageContext& ctx) {
  auto stats = ctx.store.stats();
  if (!stats) return stats.status();
  json dropped = json::object();
  json protocol = json::object();
  json other = json::object();
  std::int64_t dropped_total = 0;
  for (const auto& [name, value] : ctx.counters) {
    std::string_view n = name;
    if (n.substr(0, counter::kDroppedPrefix.size()) == counter::kDroppedPrefix) {
      dropped[name.substr(counter::kDroppedPrefix.size())] = value;
      dropped_total += value;
    } else if (n.substr(0, counter::kProtocolPrefix.size()) == counter::kProtocolPrefix) {
      protocol[name.substr(counter::kProtocolPrefix.size())] = value;
    } else {
      other[name] = value;
    }
  }
  status["queue"] = {
      {"pending", stats->pending},
      {"sent", stats->sent},
      {"stored", stats->pending + stats->sent},
      {"bytes", stats->bytes},
      {"dropped", dropped},
      {"droppedTotal", dropped_total},
      // Why the database refused the latest write (a full disk), else null.
      {"writeError", ctx.last_write_error.empty() ? json() : json(ctx.last_write_error)}};
  // Each app's share of the local log; events from before apps were recorded count under "".
  if (auto per_app = ctx.store.app_stats()) {
    json& apps = status[ipc::field::kApps];
    for (auto& entry : apps) {
      auto it = per_app->find(entry.value("name", ""));
      entry["pending"] = it == per_app->end() ? 0 : it->second.pending;
      entry["sent"] = it == per_app->end() ? 0 : it->second.sent;
      if (it != per_app->end()) per_app->erase(it);
    }
    // Apps with stored events that have not said hello since the daemon started (and have no
    // setting, or they would be listed already).
    for (const auto& [name, counts] : *per_app) {
      if (name.empty()) continue;
      apps.push_back({{"name", name},
                      {"enabled", true},
                      {"seen", false},
                      {"pending", counts.pending},
                      {"sent", counts.sent}});
    }
  }
  auto deletions = ctx.store.pending_deletions();
  auto last_deletion = ctx.store.get_value(kLastRemoteDeletionKey);
  status["remoteDeletion"] = {
      {"pending", deletions ? static_cast<std::int64_t>(deletions->size()) : 0},
      {"lastCompleted",
       last_deletion && last_deletion->has_value() ? json(**last_deletion) : json()}};
  status["upload"]["pendingBatches"] = (stats->pending + kBatchMaxEvents - 1) / kBatchMaxEvents;
  status["protocolErrors"] = protocol;
  status["counters"] = other;
  return status;
}

}  // namespace dollhouse::daemon
