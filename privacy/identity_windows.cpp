// MachineIdentity on Windows: the account name, its display name, the profile directory and the
// computer's names, from the system (not only the environment, which a process may change).
#ifndef SECURITY_WIN32
#define SECURITY_WIN32
#endif
#include <windows.h>
// clang-format off
#include <secext.h>
#include <userenv.h>
// clang-format on

#include <algorithm>
#include <cstdlib>
#include <cwchar>
#include <string>
#include <vector>

#include "common/win32.hpp"
#include "privacy/identity_names.hpp"
#include "privacy/privacy.hpp"

namespace dollhouse::privacy {
namespace {

void add_variable(std::vector<std::string>& list, const char* name) {
  if (auto value = win32::environment_variable(name)) add_identity_name(list, *value);
}

}  // namespace

MachineIdentity MachineIdentity::current() {
  MachineIdentity who;
  wchar_t buffer[1024];
  DWORD size = static_cast<DWORD>(std::size(buffer));
  if (::GetUserNameW(buffer, &size) && size > 1) {
    add_identity_name(who.user_names, win32::narrow(std::wstring_view(buffer, size - 1)));
  }
  add_variable(who.user_names, "USERNAME");
  size = static_cast<DWORD>(std::size(buffer));
  if (::GetUserNameExW(NameDisplay, buffer, &size) && size > 0) {
    add_identity_name(who.real_names, win32::narrow(std::wstring_view(buffer, size)));
  }
  HANDLE token = nullptr;
  if (::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &token)) {
    size = static_cast<DWORD>(std::size(buffer));
    // The size it reports on success is not specified: the text ends at the terminator.
    if (::GetUserProfileDirectoryW(token, buffer, &size)) {
      add_identity_name(who.home_dirs, win32::narrow(std::wstring_view(
                                           buffer, ::wcsnlen(buffer, std::size(buffer)))));
    }
    ::CloseHandle(token);
  }
  add_variable(who.home_dirs, "USERPROFILE");
  for (auto format :
       {ComputerNameDnsFullyQualified, ComputerNameDnsHostname, ComputerNameNetBIOS}) {
    size = static_cast<DWORD>(std::size(buffer));
    if (::GetComputerNameExW(format, buffer, &size) && size > 0) {
      add_identity_name(who.host_names, win32::narrow(std::wstring_view(buffer, size)));
    }
  }
  add_variable(who.host_names, "COMPUTERNAME");
  return who;
}

}  // namespace dollhouse::privacy
