// Every limit and default of the daemon, in one place, under the names the docs use
// (docs/daemon.md lists them). Changing a value here changes the documented behaviour.
#pragma once

#include "privacy/vocabulary.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace dollhouse::daemon {

// The privacy policy version this daemon collects under. Consent recorded for an older
// version is void until given again.
inline constexpr const char* kPolicyVersion = "1.0";

// Local queue and log (telemetry.db).
// maxDataRetention, in days: how long the local log keeps an event (sent or not).
inline constexpr std::int64_t kDefaultMaxDataRetention = 90;
inline constexpr std::int64_t kMinMaxDataRetention = 1;
inline constexpr std::int64_t kMaxMaxDataRetention = 3650;
inline constexpr std::int64_t kMaxStoredEvents = 50'000;  // oldest evicted first
inline constexpr std::int64_t kMaxStoredBytes = 20 * 1024 * 1024;
// Group commit: at most this many storage tasks (events, usage messages, queries) share one
// transaction.
inline constexpr std::size_t kMaxTasksPerCommit = 1024;
inline constexpr auto kMaintenanceInterval = std::chrono::minutes(60);  // retention + rollup
// While a withdrawal could not be written (telemetry.json, or the deletion of unsent events),
// maintenance tries again this often instead of every kMaintenanceInterval.
inline constexpr auto kPersistRetryInterval = std::chrono::seconds(10);
// While writes fail (a full disk), one log line per interval says how many batches failed.
inline constexpr auto kFailureLogInterval = std::chrono::seconds(60);

// Uploads (docs/upload.md).
inline constexpr const char* kDefaultEndpoint =
    "https://telemetry.dollhousemcp.com/api/v1/telemetry";
inline constexpr std::int64_t kBatchMaxEvents = 500;
inline constexpr std::int64_t kBatchMaxBytes = 512 * 1024;        // uncompressed JSON
inline constexpr std::size_t kGzipThresholdBytes = 1024;          // bodies above this are gzipped
inline constexpr auto kFlushInterval = std::chrono::minutes(60);  // while anything is pending
// The first retry window after a failure. A third of the flush interval: after a server outage
// the fleet's retries spread over many minutes, so the first minute after recovery sees less
// than twice the steady rate (tests/unit/upload/fleet_backoff_test.cpp; a 60 s base gave 4x).
// Uploads are hourly anyway, so a failed one waiting up to 20 minutes costs nothing.
inline constexpr auto kBackoffBase = std::chrono::minutes(20);
inline constexpr auto kBackoffCap = std::chrono::hours(6);
inline constexpr auto kMaxRetryAfter = std::chrono::hours(24);  // a longer Retry-After is cut
inline constexpr auto kShutdownFlushDeadline = std::chrono::seconds(3);
inline constexpr auto kConnectTimeout = std::chrono::seconds(10);
inline constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
inline constexpr auto kRequestTimeout = std::chrono::seconds(30);

// Connections.
inline constexpr std::size_t kMaxConnections = 256;
// A connection with nothing owed to it (no request in flight, no reply unwritten) is closed
// after this long without a byte from its client: kHelloTimeout before it said hello (a
// dollhousectl request needs no hello, and is answered long before), kIdleTimeout after.
// Clients reconnect on their next event.
inline constexpr auto kHelloTimeout = std::chrono::seconds(10);
inline constexpr auto kIdleTimeout = std::chrono::minutes(10);
// At kMaxConnections, a new client takes the place of the least recently active connection
// that is owed nothing, so a control request (status, disable) always gets through.
// After a failed accept (out of descriptors, a pipe instance that cannot be created), the
// daemon waits this long before accepting again instead of retrying at once.
inline constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);
inline constexpr std::size_t kReadChunkBytes = 4 * 1024;
// Replies waiting for a client that does not read; beyond it the daemon stops reading from
// that client until it catches up.
inline constexpr std::size_t kMaxPendingReplyBytes = 1024 * 1024;
// Requests of one connection waiting for the storage thread.
inline constexpr std::size_t kMaxInFlightPerConnection = 64;
// Tasks waiting for the storage thread across all connections; beyond it the daemon pauses
// reading from clients (backpressure instead of unbounded memory).
inline constexpr std::size_t kMaxStorageBacklog = 2'048;
inline constexpr auto kBackpressureRetry = std::chrono::milliseconds(5);

// Requests.
inline constexpr std::size_t kMaxAppNameLength = privacy::kMaxAppNameLength;
inline constexpr std::int64_t kMaxUsageIncrement = 1'000'000;
inline constexpr double kMaxTimingMs = 24.0 * 3600 * 1000;
inline constexpr std::int64_t kDefaultShowLimit = 50;
inline constexpr std::int64_t kMaxShowLimit = 10'000;

// Logs: <root>/logs/telemetryd.log, rotated by size.
inline constexpr std::size_t kLogFileBytes = 1024 * 1024;
inline constexpr std::size_t kLogFiles = 3;

}  // namespace dollhouse::daemon
