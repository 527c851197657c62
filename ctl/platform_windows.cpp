#include <windows.h>
// clang-format off
#include <sddl.h>
#include <io.h>
// clang-format on

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cwchar>
#include <string_view>

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

namespace {

void close_quietly(HANDLE& handle) {
  if (handle != nullptr && handle != INVALID_HANDLE_VALUE) ::CloseHandle(handle);
  handle = nullptr;
}

// This process's environment block without the variables in `remove` (names compared ignoring
// case, as Windows does), for CreateProcessW with CREATE_UNICODE_ENVIRONMENT. The hidden
// per-drive entries ("=C:=C:\dir") are kept as they are.
std::wstring environment_without(const std::vector<std::string>& remove) {
  std::vector<std::wstring> names;
  for (const auto& r : remove) names.push_back(widen(r));
  std::wstring block;
  wchar_t* env = ::GetEnvironmentStringsW();
  if (env != nullptr) {
    for (const wchar_t* entry = env; *entry != L'\0'; entry += std::wcslen(entry) + 1) {
      std::wstring_view text(entry);
      std::size_t eq = text.find(L'=', 1);
      std::wstring_view name = text.substr(0, eq);
      bool drop = std::any_of(names.begin(), names.end(), [&](const std::wstring& n) {
        return ::CompareStringOrdinal(name.data(), static_cast<int>(name.size()), n.data(),
                                      static_cast<int>(n.size()), TRUE) == CSTR_EQUAL;
      });
      if (drop) continue;
      block.append(text);
      block.push_back(L'\0');
    }
    ::FreeEnvironmentStringsW(env);
  }
  if (block.empty()) block.push_back(L'\0');  // an empty block still ends in two NULs
  block.push_back(L'\0');
  return block;
}

constexpr std::size_t kKeptStderr = 64 * 1024;

}  // namespace

struct SpawnedProcess::State {
  HANDLE process = nullptr;
  HANDLE stderr_read = nullptr;  // nullptr once released or when the writer is gone
  std::optional<ProcessEnd> end;
  std::string text;

  ~State() {
    close_quietly(stderr_read);
    close_quietly(process);
  }

  // Takes what the pipe holds now, without blocking (an anonymous pipe has no overlapped reads,
  // so PeekNamedPipe says how much a ReadFile can take at once).
  void drain() {
    char buf[4096];
    while (stderr_read != nullptr) {
      DWORD available = 0;
      if (!::PeekNamedPipe(stderr_read, nullptr, 0, nullptr, &available, nullptr)) {
        close_quietly(stderr_read);  // broken: the process and every copy of its end are gone
        return;
      }
      if (available == 0) return;
      DWORD n = 0;
      if (!::ReadFile(stderr_read, buf, std::min<DWORD>(available, sizeof buf), &n, nullptr) ||
          n == 0) {
        close_quietly(stderr_read);
        return;
      }
      text.append(buf, n);
      if (text.size() > kKeptStderr) text.erase(0, text.size() - kKeptStderr);
    }
  }
};

SpawnedProcess::SpawnedProcess(std::unique_ptr<State> state) : state_(std::move(state)) {}
SpawnedProcess::SpawnedProcess(SpawnedProcess&&) noexcept = default;
SpawnedProcess& SpawnedProcess::operator=(SpawnedProcess&&) noexcept = default;
SpawnedProcess::~SpawnedProcess() = default;

void SpawnedProcess::wait(std::chrono::milliseconds timeout) {
  State& s = *state_;
  if (s.end) return;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::size_t before = s.text.size();
  while (true) {
    s.drain();
    if (s.text.size() != before) return;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    // The process handle is signalled when it ends; the pipe is looked at again every 10 ms.
    DWORD slice = static_cast<DWORD>(std::min<std::int64_t>(left.count(), 10));
    if (::WaitForSingleObject(s.process, slice) == WAIT_OBJECT_0) return;
  }
}

std::optional<ProcessEnd> SpawnedProcess::exited() {
  State& s = *state_;
  if (s.end) return s.end;
  if (::WaitForSingleObject(s.process, 0) != WAIT_OBJECT_0) return std::nullopt;
  DWORD code = 0;
  if (!::GetExitCodeProcess(s.process, &code)) code = static_cast<DWORD>(-1);
  s.end = ProcessEnd{static_cast<int>(code), 0};
  s.drain();
  return s.end;
}

const std::string& SpawnedProcess::stderr_text() const {
  return state_->text;
}

void SpawnedProcess::release() {
  close_quietly(state_->stderr_read);
}

Result<SpawnedProcess> spawn_daemon(const std::vector<std::string>& args,
                                    const std::vector<std::string>& env_to_remove) {
  if (args.empty()) return Status::error(kCannotRun, "cannot run the daemon: no program named");
  std::wstring line = command_line(args);
  std::wstring env = environment_without(env_to_remove);
  // A path is started as it is; only a bare name is searched for.
  const std::wstring program = widen(args.front());
  const bool is_path = program.find_first_of(L"\\/") != std::wstring::npos;

  SECURITY_ATTRIBUTES inherit{};
  inherit.nLength = sizeof inherit;
  inherit.bInheritHandle = TRUE;
  HANDLE stderr_read = nullptr;
  HANDLE stderr_write = nullptr;
  if (!::CreatePipe(&stderr_read, &stderr_write, &inherit, 0)) {
    return Status::error("io_error",
                         "cannot start the daemon: CreatePipe: " + error_text(::GetLastError()));
  }
  ::SetHandleInformation(stderr_read, HANDLE_FLAG_INHERIT, 0);
  HANDLE null_device =
      ::CreateFileW(L"NUL", GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE,
                    &inherit, OPEN_EXISTING, 0, nullptr);
  if (null_device == INVALID_HANDLE_VALUE) {
    DWORD e = ::GetLastError();
    close_quietly(stderr_read);
    close_quietly(stderr_write);
    return Status::error("io_error", "cannot start the daemon: NUL: " + error_text(e));
  }

  // The child inherits these two handles and nothing else of this process (not the caller's
  // pipes that may be this program's own standard streams).
  HANDLE inherited[] = {null_device, stderr_write};
  SIZE_T list_size = 0;
  ::InitializeProcThreadAttributeList(nullptr, 1, 0, &list_size);
  std::vector<unsigned char> list_buffer(list_size);
  auto* list = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(list_buffer.data());
  bool have_list = ::InitializeProcThreadAttributeList(list, 1, 0, &list_size) &&
                   ::UpdateProcThreadAttribute(list, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST,
                                               inherited, sizeof inherited, nullptr, nullptr);
  STARTUPINFOEXW startup{};
  startup.StartupInfo.cb = have_list ? sizeof startup : sizeof startup.StartupInfo;
  startup.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
  startup.StartupInfo.hStdInput = null_device;
  startup.StartupInfo.hStdOutput = null_device;
  startup.StartupInfo.hStdError = stderr_write;
  startup.lpAttributeList = have_list ? list : nullptr;
  PROCESS_INFORMATION process{};
  // No console, its own process group (a Ctrl+C in this terminal does not reach it).
  DWORD flags = DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW |
                CREATE_UNICODE_ENVIRONMENT | (have_list ? EXTENDED_STARTUPINFO_PRESENT : 0);
  BOOL started =
      ::CreateProcessW(is_path ? program.c_str() : nullptr, line.data(), nullptr, nullptr, TRUE,
                       flags, env.data(), nullptr, &startup.StartupInfo, &process);
  DWORD error = started ? 0 : ::GetLastError();
  if (have_list) ::DeleteProcThreadAttributeList(list);
  close_quietly(null_device);
  close_quietly(stderr_write);
  if (!started) {
    close_quietly(stderr_read);
    return Status::error(kCannotRun, "cannot run " + args.front() + ": " + error_text(error));
  }
  ::CloseHandle(process.hThread);
  auto state = std::make_unique<SpawnedProcess::State>();
  state->process = process.hProcess;
  state->stderr_read = stderr_read;
  return SpawnedProcess(std::move(state));
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
  const DWORD error = started ? 0 : ::GetLastError();
  ::CloseHandle(write_end);
  if (!started) {
    ::CloseHandle(read_end);
    result.exit_code = 127;
    // What the caller shows when it prints the output: why the program did not run.
    result.text = "cannot run " + args.front() + ": " + error_text(error) + "\n";
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

bool process_running(std::int64_t pid) {
  if (pid <= 0) return false;
  HANDLE process = ::OpenProcess(SYNCHRONIZE, FALSE, static_cast<DWORD>(pid));
  if (process == nullptr) return false;
  const bool running = ::WaitForSingleObject(process, 0) == WAIT_TIMEOUT;
  ::CloseHandle(process);
  return running;
}

bool stdin_is_terminal() {
  return ::_isatty(::_fileno(stdin)) != 0;
}

void ignore_broken_pipe() {}

}  // namespace dollhouse::ctl::platform
