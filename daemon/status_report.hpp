// The `status` reply (the same object as `dollhousectl telemetry status --json`), built in two
// halves: what the I/O thread knows (consent, kill switch, upload schedule, the daemon process
// and its connections) and what only the storage thread knows (the queue, counters, remote
// deletions). docs/protocol.md shows the whole object.
//
// Pure functions of their inputs.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "daemon/apps.hpp"
#include "daemon/consent_state.hpp"
#include "daemon/storage/storage_worker.hpp"

namespace dollhouse::daemon {

// Facts about the running daemon, fixed at start.
struct DaemonFacts {
  std::string version;
  std::int64_t pid = 0;
  std::string started_at;  // ISO 8601
  std::string data_root;
  std::string socket_path;
  // What chose the ingestion URL when it was not telemetry.json: "--endpoint" or
  // "DOLLHOUSE_TELEMETRY_ENDPOINT"; empty when the config (or the default) did.
  std::string endpoint_override;
};

// Kept up to date by the listener.
struct ConnectionCounts {
  std::size_t open = 0;
  std::int64_t total = 0;  // accepted since start
};

// The I/O thread's half; `upload` is the uploader's status object.
nlohmann::json status_base(const ConsentState& consent, const AppRegistry& apps,
                           nlohmann::json upload, const DaemonFacts& facts,
                           const ConnectionCounts& connections);

// Adds the storage thread's half to `base`.
Result<nlohmann::json> complete_status(nlohmann::json base, StorageContext& ctx);

}  // namespace dollhouse::daemon
