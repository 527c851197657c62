// Whether the tests run under Wine, which implements most of what they check but not all (its
// service manager has no per-user services, it stores no file access lists and it accepts
// FILE_FLAG_FIRST_PIPE_INSTANCE without enforcing it). Tests that depend on those say so and
// skip only that part.
#pragma once

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

namespace dollhouse::testing {

inline bool running_under_wine() {
  HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
  return ntdll != nullptr && ::GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

}  // namespace dollhouse::testing
