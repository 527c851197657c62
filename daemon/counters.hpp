// Names of the daemon's persistent counters (kept in telemetry.db, reported by `status`).
//
// status groups them by prefix: "dropped.<reason>" under queue.dropped, "protocol.<code>" under
// protocolErrors, everything else under counters. Pure; any thread.
#pragma once

#include <string>
#include <string_view>

#include "ipc/reasons.hpp"

namespace dollhouse::daemon::counter {

inline constexpr std::string_view kDroppedPrefix = "dropped.";
inline constexpr std::string_view kProtocolPrefix = "protocol.";

inline std::string dropped(ipc::DropReason reason) {
  return std::string(kDroppedPrefix) + std::string(ipc::to_string(reason));
}
inline std::string protocol(ipc::ErrorCode code) {
  return std::string(kProtocolPrefix) + std::string(ipc::to_string(code));
}

inline constexpr const char* kAccepted = "accepted";  // events stored
inline constexpr const char* kUploaded = "uploaded";  // events the server took
inline constexpr const char* kFieldsDroppedUnknown = "fields.dropped_unknown";
inline constexpr const char* kPrunedRetention = "pruned.retention";  // sent, past retention
inline constexpr const char* kPrunedSize = "pruned.size";            // sent, past the size cap
inline constexpr const char* kRejectedPeer = "connections.rejected_peer";
inline constexpr const char* kRejectedLimit = "connections.rejected_limit";
// Idle connections closed to let a new client in at the connection limit.
inline constexpr const char* kClosedForRoom = "connections.closed_for_room";

}  // namespace dollhouse::daemon::counter
