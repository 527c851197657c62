// consent: records the user's answer. Giving consent binds it to the policy version the user
// was shown and creates the installId on first use; withdrawing it, or switching a category
// off, drops what is still queued and unsent for what is now off, at once.
#include "daemon/consent.hpp"
#include "daemon/commands/command_table.hpp"
#include "daemon/daemon.hpp"
#include "daemon/settings.hpp"

#include <spdlog/spdlog.h>

namespace dollhouse::daemon {

using nlohmann::json;

namespace {

// Event types whose unsent events must go when `category` is switched off.
std::vector<std::string> event_types_of(const std::string& category) {
  if (category == "usage") return {"weekly_summary"};
  if (category == "performance") return {};
  return {category};
}

}  // namespace

void handle_consent(Daemon& daemon, const std::shared_ptr<Session>& session,
                    const ipc::Request& req) {
  const json& b = req.body;
  auto enabled_it = b.find("enabled");
  if (enabled_it == b.end() || !enabled_it->is_boolean()) {
    session->reply_error(req.id, ipc::errc::kInvalidRequest,
                         "consent needs \"enabled\": true or false");
    return;
  }
  bool enable = enabled_it->get<bool>();
  TelemetryConfig config = daemon.config();
  std::string now = format_iso8601(daemon.now());

  if (auto it = b.find("level"); it != b.end() && !it->is_null()) {
    if (!it->is_string() || !categories_for_level(it->get<std::string>(), config.categories)) {
      session->reply_error(req.id, ipc::errc::kInvalidRequest,
                           "level must be one of all, error, crash, off");
      return;
    }
  }
  if (auto it = b.find("categories"); it != b.end() && !it->is_null()) {
    if (!it->is_object()) {
      session->reply_error(req.id, ipc::errc::kInvalidRequest, "categories must be an object");
      return;
    }
    for (const auto& [name, on] : it->items()) {
      if (config.categories.count(name) == 0 || !on.is_boolean()) {
        session->reply_error(req.id, ipc::errc::kInvalidRequest,
                             "categories: unknown name or non-boolean value for \"" +
                                 name.substr(0, 32) +
                                 "\"; names are installation, update, crash, error, usage, "
                                 "performance");
        return;
      }
      config.categories[name] = on.get<bool>();
    }
  }
  if (auto it = b.find("retentionDays"); it != b.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 1 ||
        it->get<std::int64_t>() > kMaxRetentionDays) {
      session->reply_error(req.id, ipc::errc::kInvalidRequest,
                           "retentionDays must be an integer from 1 to 3650");
      return;
    }
    config.max_data_retention_days = it->get<std::int64_t>();
  }
  if (enable) {
    std::string policy = kPolicyVersion;
    if (auto it = b.find("policyVersion"); it != b.end() && !it->is_null()) {
      if (!it->is_string()) {
        session->reply_error(req.id, ipc::errc::kInvalidRequest, "policyVersion must be a string");
        return;
      }
      policy = it->get<std::string>();
      if (compare_policy_versions(policy, kPolicyVersion) < 0) {
        session->reply_error(req.id, "policy_outdated",
                             "consent was given to policy " + policy.substr(0, 16) +
                                 " but the current policy is " + kPolicyVersion +
                                 "; show the current policy and ask again");
        return;
      }
    }
    config.enabled = true;
    config.consent_given = true;
    config.consent_timestamp = now;
    config.policy_version = policy;
    if (config.install_id.empty()) config.install_id = make_uuid_v4(daemon.random());
  } else {
    config.enabled = false;
    config.consent_given = false;
    config.consent_timestamp = now;
  }

  // What becomes off with this change, decided before the config is replaced.
  const TelemetryConfig& before = daemon.config();
  bool was_collecting =
      collection_blocker(before, daemon.options().kill_switch, kPolicyVersion).empty();
  bool collecting = enable;
  std::vector<std::string> purge_types;
  bool purge_all = !collecting;
  if (collecting) {
    for (const auto& [name, on] : config.categories) {
      if (!on) {
        for (auto& t : event_types_of(name)) purge_types.push_back(t);
      }
    }
  }
  bool purge_usage = purge_all || !config.category_enabled("usage");
  bool strip_performance = !purge_all && !config.category_enabled("performance");
  if (Status st = daemon.replace_config(config); !st) {
    session->reply_error(req.id, "io_error", "could not save consent: " + st.message());
    return;
  }
  spdlog::info("consent {}: categories now {}", enable ? "given" : "withdrawn",
               json(config.categories).dump());
  json summary = daemon.consent_summary();
  daemon.query(session, req.id, [=](StorageContext& ctx) -> Result<json> {
    std::int64_t dropped = 0;
    if (purge_all) {
      auto n = ctx.store.delete_unsent(std::nullopt);
      if (!n) return n.status();
      dropped += *n;
    }
    for (const auto& t : purge_types) {
      auto n = ctx.store.delete_unsent(t);
      if (!n) return n.status();
      dropped += *n;
    }
    if (purge_usage) {
      if (Status st = ctx.store.delete_all_usage(); !st) return st;
    }
    if (strip_performance) {
      // Summaries already made keep their counts but lose the timings.
      auto n = ctx.store.remove_unsent_field("weekly_summary", "$.performance");
      if (!n) return n.status();
    }
    ctx.count("dropped.withdrawn", dropped);
    return json{{"consent", summary}, {"droppedUnsent", dropped}, {"wasEnabled", was_collecting}};
  });
}

}  // namespace dollhouse::daemon
