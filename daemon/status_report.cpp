#include "daemon/status_report.hpp"

#include "daemon/consent.hpp"
#include "daemon/counters.hpp"
#include "daemon/settings.hpp"
#include "daemon/upload/uploader.hpp"

namespace dollhouse::daemon {

using nlohmann::json;

json status_base(const ConsentState& consent, json upload, const DaemonFacts& facts,
                 const ConnectionCounts& connections) {
  const TelemetryConfig& config = consent.config();
  const KillSwitch& ks = consent.kill_switch();
  const auto blocker = consent.blocker();
  const bool consent_valid = config.consent_given && blocker != ipc::Blocker::kPolicyOutdated &&
                             blocker != ipc::Blocker::kNoConsent;
  json consent_json = {
      {"given", config.consent_given},
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
