// consent: records the user's answer, for every app or (with "app") for one. Giving consent binds
// it to the policy version the user was shown, creates the installId on first use and stores
// the installation and update reports apps made while the question was open; saying no, or
// switching an app or a category off, deletes what is still queued and unsent for what is now
// off, at once. A first no is a decline; a no after a yes is a withdrawal.
#include <spdlog/spdlog.h>

#include "daemon/commands/choices.hpp"
#include "daemon/commands/command_table.hpp"
#include "daemon/consent.hpp"
#include "daemon/settings.hpp"

namespace dollhouse::daemon {

using ipc::ConsentAnswer;
using nlohmann::json;

namespace {

// `consent` with "app": that app on or off; the user's answer for all apps stays as it is.
void choose_for_app(CommandContext& ctx, const std::shared_ptr<Connection>& connection,
                    const ipc::Request& req, const std::string& app, bool enable) {
  Choice choice;
  choice.config = ctx.consent.config();
  if (enable) {
    AppConfig& entry = choice.config.apps[app];
    entry.enabled = true;
    if (entry == AppConfig{}) choice.config.apps.erase(app);
  } else {
    choice.config.apps[app].enabled = false;
  }
  choice.purge = plan_purge(ctx.consent.config(), choice.config, ctx.clock.now());
  choice.holds_unsaved = !enable;
  choice.reply[ipc::field::kApp] = {{"name", app}, {"enabled", enable}};
  spdlog::info("an app was switched {} by the user", enable ? "on" : "off");
  commit_choice(ctx, connection, req.id, std::move(choice), [&ctx, app, enable] {
    auto held = ctx.apps.take_held(app);
    if (enable && !ctx.consent.blocker()) {
      store_setup_reports(ctx, std::move(held));
    } else if (enable) {
      for (auto& r : held) ctx.apps.hold(std::move(r));  // still waiting for the answer
    }
  });
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
  const bool enable = enabled_it->get<bool>();
  if (auto it = b.find(ipc::field::kApp); it != b.end() && !it->is_null()) {
    if (!it->is_string() || !is_app_name(it->get<std::string>())) {
      connection->reply_error(req.id, ipc::ErrorCode::kInvalidRequest,
                              "app must be an app's name: letters, digits and -_.@/ (at most 64)");
      return;
    }
    choose_for_app(ctx, connection, req, it->get<std::string>(), enable);
    return;
  }
  const TelemetryConfig& before = ctx.consent.config();
  TelemetryConfig config = before;
  if (auto error = read_preferences(b, config)) {
    connection->reply_error(req.id, ipc::ErrorCode::kInvalidRequest, *error);
    return;
  }
  const std::string now = format_iso8601(ctx.clock.now());
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
    config.answer = ConsentAnswer::kGiven;
    if (config.install_id.empty()) config.install_id = ctx.consent.new_install_id();
  } else {
    config.enabled = false;
    config.consent_given = false;
    config.consent_timestamp = now;
    // Whoever said yes once and now says no withdraws; a first no declines.
    config.answer =
        before.answer == ConsentAnswer::kGiven || before.answer == ConsentAnswer::kWithdrawn
            ? ConsentAnswer::kWithdrawn
            : ConsentAnswer::kDeclined;
  }
  Choice choice;
  choice.purge = plan_purge(before, config, ctx.clock.now());
  choice.config = std::move(config);
  // A no holds at once, even when telemetry.json cannot be written (a full disk): the file
  // follows as soon as it can (ConsentState::retry_save). A yes is given only once it is on disk.
  choice.holds_unsaved = !enable;
  spdlog::info("consent {}", enable ? "given" : to_string(choice.config.answer));
  commit_choice(ctx, connection, req.id, std::move(choice), [&ctx, enable] {
    if (enable) {
      store_setup_reports(ctx, ctx.apps.take_held());
    } else {
      ctx.apps.forget_held();  // never counted after a no
    }
  });
}

}  // namespace dollhouse::daemon
