#include "daemon/maintenance.hpp"

#include <set>

#include <spdlog/spdlog.h>

#include "daemon/counters.hpp"
#include "daemon/event_stamp.hpp"
#include "daemon/settings.hpp"
#include "daemon/usage_rollup.hpp"

namespace dollhouse::daemon {

using nlohmann::json;

Maintenance::Maintenance(boost::asio::io_context& io, const Clock& clock, ConsentState& consent,
                         StorageChannel& storage, PlatformInfo platform, OnStored on_stored)
    : clock_(clock),
      consent_(consent),
      storage_(storage),
      platform_(std::move(platform)),
      on_stored_(std::move(on_stored)),
      timer_(io) {}

void Maintenance::start() {
  stopped_ = false;
  run();
  schedule();
}

void Maintenance::stop() {
  // The daemon is stopping: one more try at what a full disk held back (telemetry.json, the
  // deletions), committed by the storage thread before it stops.
  if (!stopped_ && (consent_.unsaved() || purge_pending_)) {
    spdlog::info("stopping: trying once more to save what the full disk held back");
    run();
  }
  stopped_ = true;
  timer_.cancel();
}

void Maintenance::schedule() {
  reschedule(consent_.unsaved() || purge_pending_
                 ? std::chrono::duration_cast<std::chrono::milliseconds>(kPersistRetryInterval)
                 : std::chrono::duration_cast<std::chrono::milliseconds>(kMaintenanceInterval));
}

void Maintenance::retry_soon() {
  purge_pending_ = true;
  if (stopped_) return;
  reschedule(std::chrono::duration_cast<std::chrono::milliseconds>(kPersistRetryInterval));
}

void Maintenance::reschedule(std::chrono::milliseconds delay) {
  if (stopped_) return;
  timer_.expires_after(delay);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    run();
    schedule();
  });
}

void Maintenance::run() {
  if (consent_.unsaved()) {
    if (Status st = consent_.retry_save(); st) {
      spdlog::info("telemetry.json saved: the withdrawal is on disk");
    }
  }
  // Copies for the storage thread, which must not read the consent state.
  const SystemTime now = clock_.now();
  const bool withdrawn = !consent_.config().consent_given || !consent_.config().enabled;
  const std::int64_t cutoff_ms =
      to_unix_millis(now) - consent_.config().max_data_retention * std::int64_t{24 * 3600 * 1000};
  const std::string current_week = local_week_position(now).week_start;
  const auto usage_blocked = consent_.drop_reason_for("usage", "");
  const bool performance_allowed = !consent_.drop_reason_for("performance", "").has_value();
  std::set<std::string> apps_off;
  for (const auto& [name, app] : consent_.config().apps) {
    if (!app.enabled) apps_off.insert(name);
  }
  const std::string install_id = consent_.config().install_id;
  storage_.post([=, this](StorageContext& ctx) {
    bool purge_failed = false;
    if (!withdrawn) {
      // Nothing unsent of an app the user switched off is ever uploaded, also when the disk was
      // full when it was switched off.
      bool failed = false;
      for (const auto& app : apps_off) {
        auto n = ctx.store.delete_unsent_of_app(app);
        if (!n) {
          failed = true;
        } else if (*n > 0) {
          ctx.count(counter::dropped(ipc::DropReason::kWithdrawn), *n);
        }
      }
      purge_failed = failed;
    }
    if (withdrawn) {
      // Nothing unsent outlives a withdrawal, also when the disk was full at the time.
      auto n = ctx.store.delete_unsent(std::nullopt);
      Status usage = n ? ctx.store.delete_all_usage() : n.status();
      if (n && *n > 0) ctx.count(counter::dropped(ipc::DropReason::kWithdrawn), *n);
      purge_failed = !n || !usage;
    }
    // Every write transaction also completes a local deletion the disk held back
    // (SqliteEventStore::delete_local_log), so a pass that commits finishes that too.
    storage_.after_commit(ctx, [this, purge_failed](const Status& commit) {
      purge_pending_ = purge_failed || !commit;
      if (purge_pending_) {
        reschedule(std::chrono::duration_cast<std::chrono::milliseconds>(kPersistRetryInterval));
      }
    });
    if (auto evicted = ctx.store.evict_older_than(cutoff_ms); evicted && evicted->removed > 0) {
      ctx.count(counter::dropped(ipc::DropReason::kEvictedRetention), evicted->removed_unsent);
      ctx.count(counter::kPrunedRetention, evicted->removed - evicted->removed_unsent);
      spdlog::info("retention: removed {} events older than the retention period",
                   evicted->removed);
    }
    auto weeks = ctx.store.usage_weeks();
    if (!weeks) return;
    std::int64_t stored = 0;
    for (const auto& [key, text] : *weeks) {
      if (key.week_start >= current_week) continue;  // still running
      json data = json::parse(text, nullptr, false);
      if (apps_off.count(key.app) > 0) {
        ctx.count(counter::dropped(ipc::DropReason::kAppOff));
      } else if (!usage_blocked && data.is_object()) {
        AppInfo app;
        app.app = key.app;
        app.app_version = data.value("appVersion", "");
        app.node_version = data.value("nodeVersion", "");
        app.mcp_client = data.value("mcpClient", "");
        json event = stamp_event(
            weekly_summary(key.week_start, usage_week_from_json(data), performance_allowed), app,
            platform_, install_id, now);
        if (ctx.store.append(to_unix_millis(ctx.now), "weekly_summary", key.app, event.dump())) {
          ctx.appended = true;
          ++stored;
        }
      } else {
        ctx.count(counter::dropped(usage_blocked ? ipc::DropReason::kCategoryOff
                                                 : ipc::DropReason::kInvalidEvent));
      }
      (void)ctx.store.delete_usage_week(key);
    }
    if (stored > 0) {
      storage_.after_commit(ctx, [this, stored](const Status& st) {
        if (st) on_stored_(stored);
      });
    }
  });
}

}  // namespace dollhouse::daemon
