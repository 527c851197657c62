#include "daemon/commands/choices.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "daemon/consent.hpp"
#include "daemon/counters.hpp"
#include "daemon/event_stamp.hpp"
#include "daemon/settings.hpp"

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

constexpr std::int64_t kDayMs = 24 * 3600 * 1000;

}  // namespace

std::optional<std::string> read_preferences(const json& b, TelemetryConfig& config) {
  if (auto it = b.find("level"); it != b.end() && !it->is_null()) {
    if (!it->is_string() || !categories_for_level(it->get<std::string>(), config.categories)) {
      return "level must be one of all, error, crash, off";
    }
  }
  if (auto it = b.find("categories"); it != b.end() && !it->is_null()) {
    if (!it->is_object()) return "categories must be an object";
    for (const auto& [name, on] : it->items()) {
      if (config.categories.count(name) == 0 || !on.is_boolean()) {
        return "categories: unknown name or non-boolean value for \"" + name.substr(0, 32) +
               "\"; names are " + category_names();
      }
      config.categories[name] = on.get<bool>();
    }
  }
  if (auto it = b.find(ipc::field::kMaxDataRetention); it != b.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < kMinMaxDataRetention ||
        it->get<std::int64_t>() > kMaxMaxDataRetention) {
      return std::string(ipc::field::kMaxDataRetention) + " must be a number of days from " +
             std::to_string(kMinMaxDataRetention) + " to " + std::to_string(kMaxMaxDataRetention);
    }
    config.max_data_retention = it->get<std::int64_t>();
  }
  return std::nullopt;
}

PurgePlan plan_purge(const TelemetryConfig& before, const TelemetryConfig& after, SystemTime now) {
  PurgePlan plan;
  // Without consent nothing unsent may stay; otherwise only what this change switched off goes.
  plan.everything = !after.consent_given;
  auto switched_off = [&](const std::string& category) {
    return before.category_enabled(category) && !after.category_enabled(category);
  };
  if (!plan.everything) {
    for (const auto& [name, on] : after.categories) {
      if (switched_off(name)) {
        for (auto& t : event_types_of(name)) plan.event_types.push_back(t);
      }
    }
    plan.strip_performance = switched_off("performance");
    for (const auto& [name, app] : after.apps) {
      if (!app.enabled && before.app_enabled(name)) plan.apps.push_back(name);
    }
  }
  plan.usage = plan.everything || switched_off("usage");
  if (after.max_data_retention < before.max_data_retention) {
    plan.retention_ms = to_unix_millis(now) - after.max_data_retention * kDayMs;
  }
  return plan;
}

void commit_choice(CommandContext& ctx, const std::shared_ptr<Connection>& connection,
                   const json& id, Choice choice, const std::function<void()>& after_saved) {
  const bool was_collecting = !ctx.consent.blocker().has_value();
  bool saved = true;
  if (Status st = ctx.consent.replace(choice.config); !st) {
    if (!choice.holds_unsaved) {
      connection->reply_error(id, ipc::ErrorCode::kIoError,
                              "could not save your choice to telemetry.json (" + st.message() +
                                  "); nothing changed. Free some disk space and try again");
      return;
    }
    ctx.consent.replace_unsaved(choice.config);
    saved = false;
    spdlog::warn(
        "a choice that turns collection off holds in memory; telemetry.json could not "
        "be written yet: {}",
        st.message());
  }
  if (after_saved) after_saved();
  json reply = std::move(choice.reply);
  reply["consent"] = ctx.consent.summary();
  reply[ipc::field::kWasEnabled] = was_collecting;
  reply["saved"] = saved;
  StorageChannel& storage = ctx.storage;
  Maintenance* maintenance = &ctx.maintenance;
  if (!saved) maintenance->retry_soon();
  connection->begin_storage_request();
  storage.post([=, &storage, plan = std::move(choice.purge)](StorageContext& sc) {
    // What could not be removed now is removed by maintenance: unsent events never outlive a
    // withdrawal.
    std::int64_t pruned = 0;
    auto purge = [&]() -> Result<std::int64_t> {
      std::int64_t dropped = 0;
      auto add = [&](Result<std::int64_t> n) -> Status {
        if (!n) return n.status();
        dropped += *n;
        return Status::ok();
      };
      if (plan.everything) {
        if (Status st = add(sc.store.delete_unsent(std::nullopt)); !st) return st;
      }
      for (const auto& t : plan.event_types) {
        if (Status st = add(sc.store.delete_unsent(t)); !st) return st;
      }
      for (const auto& app : plan.apps) {
        if (Status st = add(sc.store.delete_unsent_of_app(app)); !st) return st;
        if (Status st = sc.store.delete_usage_of_app(app); !st) return st;
      }
      if (plan.usage) {
        if (Status st = sc.store.delete_all_usage(); !st) return st;
      }
      if (plan.strip_performance) {
        // Summaries already made keep their counts but lose the timings.
        auto n = sc.store.remove_unsent_field("weekly_summary", "$.performance");
        if (!n) return n.status();
      }
      if (plan.retention_ms) {
        auto evicted = sc.store.evict_older_than(*plan.retention_ms);
        if (!evicted) return evicted.status();
        sc.count(counter::dropped(ipc::DropReason::kEvictedRetention), evicted->removed_unsent);
        sc.count(counter::kPrunedRetention, evicted->removed - evicted->removed_unsent);
        pruned = evicted->removed;
      }
      return dropped;
    };
    auto result = std::make_shared<Result<std::int64_t>>(purge());
    if (*result) sc.count(counter::dropped(ipc::DropReason::kWithdrawn), **result);
    storage.after_commit(sc, [=](const Status& commit) {
      EndStorageRequestOnExit ending(*connection);
      const bool purged = commit && *result;
      json out = reply;
      out[ipc::field::kDroppedUnsent] = purged ? **result : 0;
      out["pruned"] = purged ? pruned : 0;
      if (!purged) {
        maintenance->retry_soon();
        out["purgePending"] = true;
        out["warning"] = "the database is not writable now (" +
                         (commit ? result->status().message() : commit.message()) +
                         "); queued events will be deleted as soon as it is";
      } else if (!saved) {
        out["warning"] =
            "telemetry.json could not be written yet; the choice holds now and is saved as soon "
            "as the disk allows";
      }
      connection->reply_ok(id, std::move(out));
    });
  });
}

SetupOutcomes store_setup_reports(CommandContext& ctx, std::vector<SetupReport> reports) {
  SetupOutcomes outcomes;
  TelemetryConfig config = ctx.consent.config();
  std::vector<SetupReport> to_store;
  for (auto& r : reports) {
    const std::string category = privacy::category_of(r.event.value("eventType", ""));
    if (ctx.consent.drop_reason_for(category, r.app.app)) {
      outcomes[r.key] = "not_collected";
      continue;
    }
    auto& counted = config.apps[r.app.app].counted_setup;
    if (std::find(counted.begin(), counted.end(), r.key) != counted.end()) {
      outcomes[r.key] = "already_counted";
      continue;
    }
    // Bounded like everything in telemetry.json: the oldest keys go first.
    counted.push_back(r.key);
    if (counted.size() > kMaxSetupReportsPerApp * 4) counted.erase(counted.begin());
    outcomes[r.key] = "counted";
    to_store.push_back(std::move(r));
  }
  if (to_store.empty()) return outcomes;
  if (Status st = ctx.consent.replace(config); !st) {
    spdlog::warn("installation reports wait: telemetry.json could not be written: {}",
                 st.message());
    for (auto& r : to_store) {
      outcomes[r.key] = "pending";
      ctx.apps.hold(std::move(r));
    }
    return outcomes;
  }
  StorageChannel& storage = ctx.storage;
  Uploader& uploader = ctx.uploader;
  AppRegistry& apps = ctx.apps;
  const std::int64_t now_ms = to_unix_millis(ctx.clock.now());
  for (auto& r : to_store) {
    json event =
        stamp_event(std::move(r.event), r.app, ctx.platform, config.install_id, r.reported_at);
    const std::string type = event.value("eventType", "");
    storage.post([&storage, &uploader, &apps, now_ms, type, app = r.app.app,
                  body = event.dump()](StorageContext& sc) {
      const bool appended = sc.store.append(now_ms, type, app, body).is_ok();
      if (appended) {
        sc.appended = true;
        sc.count(counter::kAccepted);
      } else {
        sc.count(counter::dropped(ipc::DropReason::kStorageError));
      }
      storage.after_commit(sc, [&uploader, &apps, app, appended](const Status& commit) {
        if (appended && commit) {
          uploader.on_events_accepted(1);
          apps.count_accepted(app);
        }
      });
    });
  }
  spdlog::info("stored {} installation or update report(s) made before consent", to_store.size());
  return outcomes;
}

}  // namespace dollhouse::daemon
