// The user's consent and preferences as the running daemon holds them: telemetry.json in memory,
// the kill switch of the daemon's own environment, and the rules (daemon/consent.hpp) applied
// to both.
//
// Every change goes to disk first (save_config, atomic) and then replaces the copy in memory, so
// what the daemon enforces is always what the file says. On a full disk, where the atomic write
// cannot make its temporary file, a change that only takes consent away is written over the old
// file in place (save_config_in_place); when even that fails it holds in memory only
// (replace_unsaved) until retry_save() gets it to disk. What is enforced never gives more than
// what the file says. I/O thread only; the storage thread gets copies of what it needs.
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

  // Saves `config` to telemetry.json, then makes it the one in force. A change that only takes
  // consent away (only_takes_consent_away from what the file holds) that cannot be written
  // atomically is written in place.
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
  // What telemetry.json holds, as far as this daemon knows: the config it was started with or
  // the last one it saved.
  TelemetryConfig on_disk_;

  // Writes `config` atomically, or in place when that fails and the change only takes consent
  // away from what is on disk.
  Status save(const TelemetryConfig& config);
};

}  // namespace dollhouse::daemon
