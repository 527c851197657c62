#include "daemon/consent_state.hpp"

#include <spdlog/spdlog.h>

#include "daemon/consent.hpp"
#include "daemon/settings.hpp"

namespace dollhouse::daemon {

using nlohmann::json;

ConsentState::ConsentState(std::string config_path, TelemetryConfig config, KillSwitch kill_switch,
                           RandomSource& random)
    : config_path_(std::move(config_path)),
      config_(std::move(config)),
      kill_switch_(std::move(kill_switch)),
      random_(random),
      on_disk_(config_) {}

std::optional<ipc::Blocker> ConsentState::blocker() const {
  return collection_blocker(config_, kill_switch_, kPolicyVersion);
}

std::optional<ipc::DropReason> ConsentState::drop_reason_for(const std::string& category,
                                                             const std::string& app) const {
  return drop_reason(config_, kill_switch_, kPolicyVersion, category, app);
}

json ConsentState::summary() const {
  auto blocked_by = blocker();
  return {{"enabled", !blocked_by.has_value()},
          {"given", config_.consent_given},
          {ipc::field::kConsentState, config_.answer},
          {ipc::field::kBlockedBy, blocked_by ? json(*blocked_by) : json()},
          {"overriddenBy", kill_switch_.off ? json(kill_switch_.overridden_by) : json()},
          {ipc::field::kPolicyVersion,
           config_.policy_version.empty() ? json() : json(config_.policy_version)},
          {ipc::field::kCurrentPolicyVersion, kPolicyVersion},
          {"categories", config_.categories}};
}

Status ConsentState::save(const TelemetryConfig& config) {
  Status st = save_config(config_path_, config);
  if (!st && only_takes_consent_away(on_disk_, config)) {
    // A full disk: no room for a temporary file, but the old file's blocks take the new content.
    Status in_place = save_config_in_place(config_path_, config);
    if (!in_place) return Status::error(st.code(), st.message() + "; " + in_place.message());
    spdlog::warn("telemetry.json rewritten in place ({}): the choice is on disk", st.message());
    st = Status::ok();
  }
  if (st) on_disk_ = config;
  return st;
}

Status ConsentState::replace(TelemetryConfig config) {
  if (Status st = save(config); !st) return st;
  config_ = std::move(config);
  unsaved_ = false;
  return Status::ok();
}

void ConsentState::replace_unsaved(TelemetryConfig config) {
  config_ = std::move(config);
  unsaved_ = true;
}

Status ConsentState::retry_save() {
  if (!unsaved_) return Status::ok();
  if (Status st = save(config_); !st) return st;
  unsaved_ = false;
  return Status::ok();
}

std::string ConsentState::new_install_id() {
  return make_uuid_v4(random_);
}

Status ConsentState::rotate_install_id() {
  TelemetryConfig config = config_;
  config.install_id = new_install_id();
  return replace(std::move(config));
}

Status ConsentState::restore_install_id(const std::string& install_id) {
  TelemetryConfig config = config_;
  config.install_id = install_id;
  return replace(std::move(config));
}

}  // namespace dollhouse::daemon
