// The text of a crash record (docs/protocol.md "Crash records"), prepared before any crash.
//
// A signal handler may not allocate or format, so everything but the crash's time is formatted
// here, when the handler is installed: for each kind of crash, the record before the time and
// the record after it, once for a crash during startup and once for a later one. The handler
// writes head, the time's digits and one tail. Pure functions; they may throw std::bad_alloc.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dollhouse::telemetry::detail {

// The largest record the daemon reads (it deletes larger ones as invalid).
inline constexpr std::size_t kMaxCrashRecordBytes = 16 * 1024;
// A crash this soon after the process started is a "startup" crash, a later one "runtime".
inline constexpr auto kStartupWindow = std::chrono::seconds(10);
// The record format this client writes ("v").
inline constexpr int kCrashRecordVersion = 1;

// The crashes a handler records, in the order of kCrashKinds.
enum class CrashKind { kSegv, kBus, kFpe, kIll, kAbort, kTerminate };
inline constexpr std::size_t kCrashKindCount = 6;
// "SIGSEGV", ..., "std::terminate": the record's errorCategory.
std::string_view crash_category(CrashKind kind);

struct CrashRecordFacts {
  std::string app;
  std::string app_version;
  std::string node_version;  // optional
  std::string mcp_client;    // optional
  std::string component;     // "native" when empty
};

struct CrashRecordText {
  std::string head;  // {"v":1,...,"time":
  std::array<std::string, kCrashKindCount> startup_tail;
  std::array<std::string, kCrashKindCount> runtime_tail;
  std::string file_prefix;  // the app part of the file name and its '-'
};

// nullopt when a record would not fit kMaxCrashRecordBytes (absurdly long names).
std::optional<CrashRecordText> prepare_crash_record(const CrashRecordFacts& facts);

// The app part of a record's file name: every character other than a lowercase letter, a
// digit, '-', '.' and '_' replaced by '_'.
std::string crash_file_app_part(std::string_view app);

// Writes `value` in decimal into `out` (at least 20 bytes); returns the number of digits.
// Async-signal-safe.
std::size_t format_decimal(std::uint64_t value, char* out) noexcept;

}  // namespace dollhouse::telemetry::detail
