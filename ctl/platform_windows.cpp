#include <windows.h>
// clang-format off
#include <sddl.h>
#include <io.h>
// clang-format on

#include <algorithm>
#include <cstdio>

#include "common/win32.hpp"
#include "ctl/platform.hpp"

namespace dollhouse::ctl::platform {

namespace {

using win32::error_text;
using win32::widen;

// One argument quoted so that CommandLineToArgvW (and the C runtime) read it back unchanged.
std::wstring quote_argument(const std::wstring& arg) {
  if (!arg.empty() && arg.find_first_of(L" \t\n\v\"") == std::wstring::npos) return arg;
  std::wstring out = L"\"";
  std::size_t backslashes = 0;
  for (wchar_t c : arg) {
    if (c == L'\\') {
      ++backslashes;
      continue;
    }
    if (c == L'"') {
      out.append(backslashes * 2 + 1, L'\\');
    } else {
      out.append(backslashes, L'\\');
    }
    backslashes = 0;
    out.push_back(c);
  }
  out.append(backslashes * 2, L'\\');
  out.push_back(L'"');
  return out;
}

std::wstring command_line(const std::vector<std::string>& args) {
  std::wstring line;
  for (const auto& a : args) {
    if (!line.empty()) line.push_back(L' ');
    line += quote_argument(widen(a));
  }
  return line;
}

}  // namespace

std::string own_directory() {
  std::wstring buf(32768, L'\0');
  DWORD n = ::GetModuleFileNameW(nullptr, buf.data(), static_cast<DWORD>(buf.size()));
  if (n == 0 || n >= buf.size()) return "";
  buf.resize(n);
  auto slash = buf.find_last_of(L"\\/");
  return slash == std::wstring::npos ? "" : win32::narrow(buf.substr(0, slash));
}

std::string program_file(const std::string& name) {
  return name + ".exe";
}

bool is_executable(const std::string& path) {
  DWORD attributes = ::GetFileAttributesW(widen(path).c_str());
  return attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY) == 0;
}

std::string join_path(const std::string& dir, const std::string& name) {
  return dir + "\\" + name;
}

Status spawn_detached(const std::vector<std::string>& args) {
  std::wstring line = command_line(args);
  // A path is started as it is; only a bare name is searched for.
  const std::wstring program = widen(args.front());
  const bool is_path = program.find_first_of(L"\\/") != std::wstring::npos;
  STARTUPINFOW startup{};
  startup.cb = sizeof startup;
  PROCESS_INFORMATION process{};
  // No console, its own process group (a Ctrl+C in this terminal does not reach it), and no
  // inherited handles.
  if (!::CreateProcessW(is_path ? program.c_str() : nullptr, line.data(), nullptr, nullptr, FALSE,
                        DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW, nullptr,
                        nullptr, &startup, &process)) {
    return Status::error("io_error",
                         "cannot start " + args.front() + ": " + error_text(::GetLastError()));
  }
  ::CloseHandle(process.hThread);
  ::CloseHandle(process.hProcess);
  return Status::ok();
}

CommandOutput run_command(const std::vector<std::string>& args) {
  CommandOutput result;
  SECURITY_ATTRIBUTES inherit{};
  inherit.nLength = sizeof inherit;
  inherit.bInheritHandle = TRUE;
  HANDLE read_end = nullptr;
  HANDLE write_end = nullptr;
  if (!::CreatePipe(&read_end, &write_end, &inherit, 0)) return result;
  ::SetHandleInformation(read_end, HANDLE_FLAG_INHERIT, 0);
  STARTUPINFOW startup{};
  startup.cb = sizeof startup;
  startup.dwFlags = STARTF_USESTDHANDLES;
  startup.hStdInput = nullptr;
  startup.hStdOutput = write_end;
  startup.hStdError = write_end;
  PROCESS_INFORMATION process{};
  std::wstring line = command_line(args);
  BOOL started = ::CreateProcessW(nullptr, line.data(), nullptr, nullptr, TRUE, CREATE_NO_WINDOW,
                                  nullptr, nullptr, &startup, &process);
  ::CloseHandle(write_end);
  if (!started) {
    ::CloseHandle(read_end);
    result.exit_code = 127;
    return result;
  }
  char buf[4096];
  DWORD n = 0;
  while (::ReadFile(read_end, buf, sizeof buf, &n, nullptr) && n > 0) {
    result.text.append(buf, n);
  }
  ::CloseHandle(read_end);
  ::WaitForSingleObject(process.hProcess, INFINITE);
  DWORD code = 1;
  ::GetExitCodeProcess(process.hProcess, &code);
  ::CloseHandle(process.hThread);
  ::CloseHandle(process.hProcess);
  result.exit_code = static_cast<int>(code);
  return result;
}

bool stdin_is_terminal() {
  return ::_isatty(::_fileno(stdin)) != 0;
}

void ignore_broken_pipe() {}

}  // namespace dollhouse::ctl::platform
