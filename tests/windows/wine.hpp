// Whether the tests run under Wine, which implements most of what they check but not all (its
// service manager has no per-user services, it stores no file access lists and it accepts
// FILE_FLAG_FIRST_PIPE_INSTANCE without enforcing it). Tests that depend on those say so and
// skip only that part. And helpers for a service manager that is still starting up.
#pragma once

#include <windows.h>

#include <chrono>
#include <string>
#include <thread>

#include "common/win32.hpp"
#include "windows-service/service_host.hpp"

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

// Registers `command` as the service named DollhouseTelemetry, an ordinary own-process service
// started on demand: what `dollhousectl service install` registers, as far as Wine's manager
// supports it (it has no per-user services). nullptr on failure, with GetLastError() set.
inline SC_HANDLE register_own_process_service(SC_HANDLE scm, const std::string& command) {
  SC_HANDLE service = nullptr;
  retry_while_database_locked([&] {
    service = ::CreateServiceW(scm, win32::widen(winsvc::kServiceName).c_str(),
                               win32::widen(winsvc::kServiceDisplayName).c_str(),
                               SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS, SERVICE_DEMAND_START,
                               SERVICE_ERROR_NORMAL, win32::widen(command).c_str(), nullptr,
                               nullptr, nullptr, nullptr, nullptr);
    return service != nullptr;
  });
  return service;
}

}  // namespace dollhouse::testing
