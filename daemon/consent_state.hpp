// The user's consent and preferences as the running daemon holds them: telemetry.json in memory,
// the kill switch of the daemon's own environment, and the rules (daemon/consent.hpp) applied
// to both.
//
// Every change goes to disk first (save_config, atomic) and then replaces the copy in memory, so
// what the daemon enforces is always what the file says. I/O thread only; the storage thread
// gets copies of what it needs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/environment.hpp"
#include "common/status.hpp"
#include "daemon/config.hpp"
#include "ipc/reasons.hpp"

namespace dollhouse::daemon {

class ConsentState {
 public:
  ConsentState(std::string config_path, TelemetryConfig config, KillSwitch kill_switch,
               RandomSource& random);

  const TelemetryConfig& config() const { return config_; }
  const KillSwitch& kill_switch() const { return kill_switch_; }

  // Why nothing is collected now (nullopt: collection is on, whatever the categories).
  std::optional<ipc::Blocker> blocker() const;
  // Why an event of `category` from `app` may not be stored now (nullopt: it may).
  std::optional<ipc::DropReason> drop_reason_for(const std::string& category,
                                                 const std::string& app) const;
  // The consent part of the hello, consent and show replies.
  nlohmann::json summary() const;

  // Saves `config` to telemetry.json, then makes it the one in force.
  Status replace(TelemetryConfig config);
  // Makes `config` the one in force although it could not be saved (a withdrawal on a full
  // disk); retry_save() writes it later.
  void replace_unsaved(TelemetryConfig config);
  // Whether what is in force is not yet in telemetry.json.
  bool unsaved() const { return unsaved_; }
  // Writes what is in force when it is not saved yet; ok when there is nothing to do.
  Status retry_save();
  // A new installId from the CSPRNG (given with the first consent, or after a remote deletion).
  std::string new_install_id();
  // Replaces the installId (after a remote deletion) and saves the config.
  Status rotate_install_id();
  // Puts an earlier installId back (the deletion request for it could not be stored).
  Status restore_install_id(const std::string& install_id);

 private:
  std::string config_path_;
  TelemetryConfig config_;
  KillSwitch kill_switch_;
  RandomSource& random_;
  bool unsaved_ = false;
};

}  // namespace dollhouse::daemon
