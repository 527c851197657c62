// consent: records the user's answer. Giving consent binds it to the policy version the user
// was shown and creates the installId on first use; withdrawing it, or switching a category
// off, drops what is still queued and unsent for what is now off, at once.
#include "daemon/consent.hpp"
#include "daemon/commands/command_table.hpp"
#include "daemon/counters.hpp"
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

std::string category_names() {
  std::string out;
  for (const auto& name : privacy::all_categories()) out += (out.empty() ? "" : ", ") + name;
  return out;
}

}  // namespace

void handle_consent(CommandContext& ctx, const std::shared_ptr<Connection>& connection,
                    const ipc::Request& req) {
  const json& b = req.body;
  auto enabled_it = b.find("enabled");
  if (enabled_it == b.end() || !enabled_it->is_boolean()) {
    connection->reply_error(req.id, ipc::ErrorCode::kInvalidRequest,
                            "consent needs \"enabled\": true or false");
    return;
  }
  bool enable = enabled_it->get<bool>();
  TelemetryConfig config = ctx.consent.config();
  std::string now = format_iso8601(ctx.clock.now());

  if (auto it = b.find("level"); it != b.end() && !it->is_null()) {
    if (!it->is_string() || !categories_for_level(it->get<std::string>(), config.categories)) {
      connection->reply_error(req.id, ipc::ErrorCode::kInvalidRequest,
                              "level must be one of all, error, crash, off");
      return;
    }
  }
  if (auto it = b.find("categories"); it != b.end() && !it->is_null()) {
    if (!it->is_object()) {
      connection->reply_error(req.id, ipc::ErrorCode::kInvalidRequest,
                              "categories must be an object");
      return;
    }
    for (const auto& [name, on] : it->items()) {
      if (config.categories.count(name) == 0 || !on.is_boolean()) {
        connection->reply_error(req.id, ipc::ErrorCode::kInvalidRequest,
                                "categories: unknown name or non-boolean value for \"" +
                                    name.substr(0, 32) + "\"; names are " + category_names());
        return;
      }
      config.categories[name] = on.get<bool>();
    }
  }
  if (auto it = b.find(ipc::field::kMaxDataRetention); it != b.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < kMinMaxDataRetention ||
        it->get<std::int64_t>() > kMaxMaxDataRetention) {
      connection->reply_error(
          req.id, ipc::ErrorCode::kInvalidRequest,
          std::string(ipc::field::kMaxDataRetention) + " must be a number of days from " +
              std::to_string(kMinMaxDataRetention) + " to " + std::to_string(kMaxMaxDataRetention));
      return;
    }
    config.max_data_retention = it->get<std::int64_t>();
  }
  if (enable) {
    std::string policy = kPolicyVersion;
    if (auto it = b.find(ipc::field::kPolicyVersion); it != b.end() && !it->is_null()) {
      if (!it->is_string()) {
        connection->reply_error(req.id, ipc::ErrorCode::kInvalidRequest,
                                "policyVersion must be a string");
        return;
      }
      policy = it->get<std::string>();
      if (compare_policy_versions(policy, kPolicyVersion) < 0) {
        connection->reply_error(req.id, ipc::ErrorCode::kPolicyOutdated,
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
    if (config.install_id.empty()) config.install_id = ctx.consent.new_install_id();
  } else {
    config.enabled = false;
    config.consent_given = false;
    config.consent_timestamp = now;
  }

  // What becomes off with this change, decided before the config is replaced.
  bool was_collecting = !ctx.consent.blocker().has_value();
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
  // A withdrawal holds at once, even when telemetry.json cannot be written (a full disk): the
  // file follows as soon as it can (ConsentState::retry_save). Consent itself is given only
  // once it is on disk.
  bool saved = true;
  if (Status st = ctx.consent.replace(config); !st) {
    if (enable) {
      connection->reply_error(req.id, ipc::ErrorCode::kIoError,
                              "could not save consent: " + st.message());
      return;
    }
    ctx.consent.replace_unsaved(config);
    saved = false;
    spdlog::warn("consent withdrawn in memory; telemetry.json could not be written yet: {}",
                 st.message());
  }
  spdlog::info("consent {}: categories now {}", enable ? "given" : "withdrawn",
               json(config.categories).dump());
  json summary = ctx.consent.summary();
  StorageChannel& storage = ctx.storage;
  Maintenance* maintenance = &ctx.maintenance;
  json id = req.id;
  connection->begin_storage_request();
  if (!saved) maintenance->retry_soon();
  storage.post([=, &storage](StorageContext& sc) {
    // What could not be removed now is removed by maintenance: unsent events never outlive a
    // withdrawal.
    auto purge = [&]() -> Result<std::int64_t> {
      std::int64_t dropped = 0;
      if (purge_all) {
        auto n = sc.store.delete_unsent(std::nullopt);
        if (!n) return n.status();
        dropped += *n;
      }
      for (const auto& t : purge_types) {
        auto n = sc.store.delete_unsent(t);
        if (!n) return n.status();
        dropped += *n;
      }
      if (purge_usage) {
        if (Status st = sc.store.delete_all_usage(); !st) return st;
      }
      if (strip_performance) {
        // Summaries already made keep their counts but lose the timings.
        auto n = sc.store.remove_unsent_field("weekly_summary", "$.performance");
        if (!n) return n.status();
      }
      return dropped;
    };
    auto result = std::make_shared<Result<std::int64_t>>(purge());
    if (*result) sc.count(counter::dropped(ipc::DropReason::kWithdrawn), **result);
    storage.after_commit(sc, [=](const Status& commit) {
      EndStorageRequestOnExit ending(*connection);
      const bool purged = commit && *result;
      json reply = {{"consent", summary},
                    {ipc::field::kDroppedUnsent, purged ? **result : 0},
                    {ipc::field::kWasEnabled, was_collecting},
                    {"saved", saved}};
      if (!purged) {
        maintenance->retry_soon();
        reply["purgePending"] = true;
        reply["warning"] = "the database is not writable now (" +
                           (commit ? result->status().message() : commit.message()) +
                           "); queued events will be deleted as soon as it is";
      } else if (!saved) {
        reply["warning"] =
            "telemetry.json could not be written yet; the choice holds now and is saved as soon "
            "as the disk allows";
      }
      connection->reply_ok(id, std::move(reply));
    });
  });
}

}  // namespace dollhouse::daemon
