// Small Windows helpers shared by ipc, ctl and the service wrapper: UTF-8 <-> UTF-16, error
// text, and who the current user is. Compiled on Windows only.
#pragma once

#ifdef _WIN32

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"

namespace dollhouse::win32 {

// UTF-8 to UTF-16 and back (the W APIs). Invalid sequences become U+FFFD.
std::wstring widen(std::string_view utf8);
std::string narrow(std::wstring_view utf16);

// "<message> (error N)" for a GetLastError() code.
std::string error_text(unsigned long code);

// The string SID of the user this process runs as ("S-1-5-21-...").
Result<std::string> current_user_sid();

// Whether the process with id `pid` runs as the same user as this process (compares the user
// SIDs of both process tokens). nullopt when the other process cannot be inspected.
std::optional<bool> process_runs_as_current_user(unsigned long pid);

// An environment variable in UTF-8, read from the wide environment (getenv, and _wgetenv in the
// older C runtime, go through the ANSI code page). nullopt when it is not set.
std::optional<std::string> environment_variable(const std::string& name);

// This process's command-line arguments in UTF-8 (argv holds them in the ANSI code page, which
// cannot spell every file name).
std::vector<std::string> utf8_arguments();

// A security descriptor in SDDL owned by `sid` that admits only `sid`, with full access and no
// inherited entries: "O:<sid>D:P(A;;GA;;;<sid>)".
std::string owner_only_sddl(const std::string& sid);

}  // namespace dollhouse::win32

#endif  // _WIN32
