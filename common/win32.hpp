// Small Windows helpers shared by ipc, ctl, the daemon and the service wrapper: UTF-8 <-> UTF-16,
// error text, who the current user is, and objects only that user may use. Compiled on Windows
// only (the Windows build defines WIN32_LEAN_AND_MEAN and NOMINMAX for every file).
#pragma once

#ifdef _WIN32

#include <windows.h>

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

// utf8_arguments() laid out as main()'s argc and argv (argv[argc] is null). Never empty: a
// missing program name becomes `program`, since argument parsers read argv[0].
class Utf8Argv {
 public:
  explicit Utf8Argv(const char* program);
  Utf8Argv(const Utf8Argv&) = delete;
  Utf8Argv& operator=(const Utf8Argv&) = delete;
  int argc() const { return static_cast<int>(pointers_.size()) - 1; }
  char** argv() { return pointers_.data(); }
  // Drops the argument at `index` (> 0), keeping the layout.
  void erase(int index);

 private:
  std::vector<std::string> args_;
  std::vector<char*> pointers_;
};

// Security attributes for creating an object that only the current user may use: owned by the
// user, a protected DACL (nothing inherited from above) with one entry allowing the user
// everything. With kToChildren the entry is also inherited by what is created inside (for a
// directory).
class UserOnlySecurity {
 public:
  enum class Inherit { kNo, kToChildren };
  // Errors: "io_error" when the user or the descriptor cannot be had.
  static Result<UserOnlySecurity> create(Inherit inherit = Inherit::kNo);
  UserOnlySecurity(UserOnlySecurity&& other) noexcept;
  UserOnlySecurity& operator=(UserOnlySecurity&&) = delete;
  UserOnlySecurity(const UserOnlySecurity&) = delete;
  ~UserOnlySecurity();

  SECURITY_ATTRIBUTES* attributes() { return &attributes_; }
  const std::string& sid() const { return sid_; }

 private:
  UserOnlySecurity(std::string sid, PSECURITY_DESCRIPTOR descriptor);
  std::string sid_;
  SECURITY_ATTRIBUTES attributes_{};
};

}  // namespace dollhouse::win32

#endif  // _WIN32
