// Whether the tests run under Wine, which implements most of what they check but not all (its
// service manager has no per-user services, it stores no file access lists and it accepts
// FILE_FLAG_FIRST_PIPE_INSTANCE without enforcing it). Tests that depend on those say so and
// skip only that part. And a helper for a service manager that is still starting up.
#pragma once

#include <windows.h>

#include <chrono>
#include <thread>

namespace dollhouse::testing {

inline bool running_under_wine() {
  HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
  return ntdll != nullptr && ::GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

// Runs `call` (which returns whether it succeeded) again while the service manager answers
// ERROR_SERVICE_DATABASE_LOCKED, as it does while it is still starting services (right after a
// Wine prefix is created, or at boot), for at most 30 s. Returns the last result.
template <typename Call>
bool retry_while_database_locked(Call call) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (true) {
    if (call()) return true;
    if (::GetLastError() != ERROR_SERVICE_DATABASE_LOCKED ||
        std::chrono::steady_clock::now() > until) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace dollhouse::testing
