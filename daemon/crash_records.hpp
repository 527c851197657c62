// Crash records: what an app's crash handler leaves in <root>/crashes/ when the app dies, and
// how the daemon turns each into one crash event (docs/protocol.md "Crash records").
//
// A crash handler cannot talk to the daemon, so it writes one small JSON file per crash
// (<name>.tmp, then renamed to <name>.json, <name> = <app>-<pid>-<unix ms>). The daemon reads
// them at start (every app's) and at each hello (that app's) and puts each through the path of
// a track from that app: consent, the app's and the category's switches, the schema, scrubbing,
// stamping with the record's app, version and time. A record is deleted once its event is
// committed, or once it is dropped for a reason (no consent, app off, invalid); it is kept for
// the next scan only when the database could not take the event.
//
// While its event is on the way to the storage thread a record is renamed to <name>.claimed, so
// a second scan (another hello) never takes it twice. A daemon that stops before the commit
// leaves the .claimed file; the next start takes it again. A daemon killed between the commit
// and the deletion counts that crash twice: crash records are delivered at least once.
//
// The parsing functions are pure; scan_crash_records runs on the I/O thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/status.hpp"
#include "daemon/commands/command_context.hpp"
#include "daemon/connection.hpp"

namespace dollhouse::daemon {

// The largest record the daemon reads; a larger file is deleted and counted as invalid_event.
inline constexpr std::size_t kMaxCrashRecordBytes = 16 * 1024;
// Records taken per scan, oldest first; the rest wait for the next scan (a hello or a start),
// so a directory full of records never holds up the I/O thread or floods the queue.
inline constexpr std::size_t kMaxCrashRecordsPerScan = 32;
// A <name>.tmp older than this is a record whose writer died before the rename; it is deleted.
inline constexpr auto kStaleCrashTempAge = std::chrono::minutes(1);
// The record format's version ("v").
inline constexpr std::int64_t kCrashRecordVersion = 1;

// <root>/crashes
std::string crash_directory(const std::string& data_root);
// Creates <root>/crashes mode 0700 when it is missing; an existing one is left as it is.
Status prepare_crash_directory(const std::string& data_root);

// The app part of a record's file name: the app name with every character other than a
// lowercase letter, a digit, '-', '.' and '_' replaced by '_'.
std::string crash_file_app_part(std::string_view app);

// What a record's file name says: "<app part>-<pid>-<unix ms>.json".
struct CrashFileName {
  std::string app_part;
  std::int64_t pid = 0;
  std::int64_t time_ms = 0;
};
std::optional<CrashFileName> parse_crash_file_name(std::string_view file_name);

// A record's content, checked: the app as a hello would have named it, when it crashed, and
// the crash event as the app would have tracked it (not yet validated against the schema).
struct CrashRecord {
  AppInfo app;
  std::int64_t time_ms = 0;
  nlohmann::json event;
};
// The reason in words when `text` is not a record this daemon reads (too long, not JSON, an
// unknown version, a bad app, version or time).
Result<CrashRecord> parse_crash_record(std::string_view text);

// Whether a <name>.tmp last written at `written` is left over from a writer that died.
inline bool is_stale_crash_temp(std::filesystem::file_time_type written,
                                std::filesystem::file_time_type now) {
  return now - written > kStaleCrashTempAge;
}

// What one scan did (for logs and tests).
struct CrashScanCounts {
  std::size_t taken = 0;      // records read this scan (at most kMaxCrashRecordsPerScan)
  std::size_t posted = 0;     // events handed to the storage thread
  std::size_t dropped = 0;    // deleted without an event: consent, a switch, invalid
  std::size_t stale_tmp = 0;  // leftover .tmp files deleted
};

// Reads the records in <root>/crashes (root = ctx.facts.data_root): every app's when `app` is
// nullopt (at start), else only that app's (at its hello). I/O thread only.
CrashScanCounts scan_crash_records(CommandContext& ctx, const std::optional<std::string>& app);

}  // namespace dollhouse::daemon
