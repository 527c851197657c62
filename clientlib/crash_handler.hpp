// The process's crash handler: one per process, bound to the Client that installed it.
//
// install_crash_handler() is called from Client::install_crash_handler (any thread, not from a
// signal handler); the handler itself only reads what was prepared here, an atomic "armed"
// flag and the open crash directory. arm_crash_handler() follows the consent state each hello
// reply tells; release_crash_handler() disarms it when the Client goes away (the handler stays
// installed: another library may have chained its own on top of it since). A later Client may
// bind it again. Platform files: crash_handler_posix.cpp (signals, sigaltstack) and
// crash_handler_windows.cpp (not supported yet).
#pragma once

#include <string>

#include "clientlib/crash_record.hpp"
#include "dollhouse/telemetry.hpp"

namespace dollhouse::telemetry::detail {

// Bytes of the alternate signal stack the handler runs on (so a stack overflow is caught):
// room for the handler's frames with the sanitizers' instrumentation too.
inline constexpr std::size_t kCrashAltStackBytes = 64 * 1024;

// `owner` identifies the Client; `crash_dir` is <root>/crashes (created 0700 when missing).
// Starts disarmed.
CrashHandlerResult install_crash_handler(const void* owner, const std::string& crash_dir,
                                         const CrashRecordFacts& facts);
// Whether the handler writes records now; ignored unless `owner` installed it. Arming opens
// the crash directory when it could not be opened at installation (no data root yet).
void arm_crash_handler(const void* owner, bool armed);
void release_crash_handler(const void* owner);

}  // namespace dollhouse::telemetry::detail
