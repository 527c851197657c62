// What a daemon command may touch, and nothing more: the consent state, the apps it knows, the
// storage thread (via its channel), the uploader, maintenance (to finish soon what a full disk
// interrupted), the scrubber, the clock, the platform fields it stamps, and the facts `status`
// reports. The daemon builds one; unit tests build one from temp-file parts and a fake clock
// (tests/unit/daemon/command_fixture.hpp).
//
// Handlers run on the I/O thread. A handler must reply exactly once when the request has an id
// (control ops always), either directly or through StorageChannel::query.
#pragma once

#include <functional>
#include <memory>

#include "common/clock.hpp"
#include "daemon/apps.hpp"
#include "daemon/connection.hpp"
#include "daemon/consent_state.hpp"
#include "daemon/maintenance.hpp"
#include "daemon/platform_info.hpp"
#include "daemon/status_report.hpp"
#include "daemon/storage_channel.hpp"
#include "daemon/upload/uploader.hpp"
#include "ipc/protocol.hpp"
#include "privacy/privacy.hpp"

namespace dollhouse::daemon {

struct CommandContext {
  ConsentState& consent;
  AppRegistry& apps;
  StorageChannel& storage;
  Uploader& uploader;
  Maintenance& maintenance;
  const privacy::Scrubber& scrubber;
  const Clock& clock;
  const PlatformInfo& platform;
  const DaemonFacts& facts;
  const ConnectionCounts& connections;
  // Ends the daemon as SIGTERM does (the shutdown op), after the reply is on its way.
  std::function<void()> stop_daemon;
};

// A track or usage message that was not kept: counted for the connection (sync reports it) and
// under dropped.<reason>.
void count_drop(CommandContext& ctx, Connection& connection, ipc::DropReason reason);

// For track and usage: true when the connection said hello; otherwise counts the drop and
// answers hello_required (when the request has an id).
bool require_hello(CommandContext& ctx, Connection& connection, const ipc::Request& request);

// The end of a track or usage message once its transaction is over (on the I/O thread): kept
// when `written` and the commit succeeded (counted as accepted, answered `accepted:true` when it
// has an id), else counted as dropped and answered with storage_error naming `what`. Returns
// whether it was kept. Ends the storage request the message began when it has an id.
bool settle_message(Connection& connection, const nlohmann::json& id, bool written,
                    const Status& commit, std::string_view what);

}  // namespace dollhouse::daemon
