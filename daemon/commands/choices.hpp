// What the consent and config ops share: reading the user's preferences from a request, saving a
// changed choice, deleting at once what it switched off, and storing the installation and
// update reports apps made before the user answered.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/apps.hpp"
#include "daemon/commands/command_context.hpp"
#include "daemon/config.hpp"

namespace dollhouse::daemon {

// Reads `level`, `categories` and `maxDataRetention` from a request body into `config`. Returns
// an error message for the first bad field, nullopt when all were valid (or absent).
std::optional<std::string> read_preferences(const nlohmann::json& body, TelemetryConfig& config);

// What a change switched off, to be deleted from the queue at once.
struct PurgePlan {
  bool everything = false;                   // consent withdrawn or declined
  std::vector<std::string> event_types;      // categories switched off
  bool usage = false;                        // rollups in progress
  bool strip_performance = false;            // timings out of queued summaries
  std::vector<std::string> apps;             // apps switched off
  std::optional<std::int64_t> retention_ms;  // events accepted before this go (retention cut)
};

// What going from `before` to `after` switched off: everything unsent when `after` has no
// consent; else the categories and apps that were on and are off now, and events past a
// shortened retention.
PurgePlan plan_purge(const TelemetryConfig& before, const TelemetryConfig& after, SystemTime now);

struct Choice {
  TelemetryConfig config;
  PurgePlan purge;
  // The change only turns things off: it holds at once even when telemetry.json cannot be
  // written (a full disk), and is saved as soon as possible.
  bool holds_unsaved = false;
  nlohmann::json reply = nlohmann::json::object();  // fields of the reply besides the outcome
};

// Saves `choice.config` and makes it the one in force, runs `after_saved` (on the I/O thread,
// the new choice in force), deletes what the plan names, and replies to `id` with
// choice.reply plus consent (the summary), droppedUnsent, pruned, wasEnabled and saved; on a
// save that may not be held unsaved, an io_error reply and nothing changes.
void commit_choice(CommandContext& ctx, const std::shared_ptr<Connection>& connection,
                   const nlohmann::json& id, Choice choice,
                   const std::function<void()>& after_saved = {});

// What became of one setup report ("counted", "already_counted", "pending" until the user
// answers, "not_collected"), keyed by setup_key.
using SetupOutcomes = std::map<std::string, std::string>;

// Stores each report as an event (once per app and key) when collection allows it now and
// marks it counted in telemetry.json; reports that may not be stored now are left out. When
// telemetry.json cannot be written, nothing is stored and the reports are held again.
SetupOutcomes store_setup_reports(CommandContext& ctx, std::vector<SetupReport> reports);

}  // namespace dollhouse::daemon
