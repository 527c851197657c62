// Windows: no crash handler yet. Structured exceptions would need SetUnhandledExceptionFilter and
// a writer that runs in the crashing process under the loader lock's rules; until that exists
// install_crash_handler() reports kNotSupported and apps report crashes with track_crash().
#include "clientlib/crash_handler.hpp"

namespace dollhouse::telemetry::detail {

CrashHandlerResult install_crash_handler(const void*, const std::string&, const CrashRecordFacts&) {
  return CrashHandlerResult::kNotSupported;
}

void arm_crash_handler(const void*, bool) {}

void release_crash_handler(const void*) {}

}  // namespace dollhouse::telemetry::detail
