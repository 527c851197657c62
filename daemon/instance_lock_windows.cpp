#include <windows.h>

#include <string>

#include "common/win32.hpp"
#include "daemon/instance_lock.hpp"

namespace dollhouse::daemon {

Result<InstanceLock> InstanceLock::acquire(const std::string& path) {
  HANDLE file = ::CreateFileW(win32::widen(path).c_str(), GENERIC_READ | GENERIC_WRITE,
                              FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr, OPEN_ALWAYS,
                              FILE_ATTRIBUTE_NORMAL, nullptr);
  if (file == INVALID_HANDLE_VALUE) {
    return Status::error("io_error",
                         "cannot open " + path + ": " + win32::error_text(::GetLastError()));
  }
  OVERLAPPED whole{};
  if (!::LockFileEx(file, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, MAXDWORD,
                    MAXDWORD, &whole)) {
    ::CloseHandle(file);
    return Status::error("already_running",
                         "another dollhouse-telemetryd is already running for this data root; "
                         "stop it first, or use `dollhousectl telemetry status` to talk to it");
  }
  return InstanceLock(static_cast<Handle>(file));
}

InstanceLock::~InstanceLock() {
  if (handle_ != kNone) ::CloseHandle(static_cast<HANDLE>(handle_));
}

}  // namespace dollhouse::daemon
