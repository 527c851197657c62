// One daemon per data root: an exclusive lock on <root>/telemetryd.lock (flock on POSIX,
// LockFileEx on Windows), held for the life of the process and released by the kernel when it
// dies (so a kill -9 leaves nothing stale).
// The file holds the owner's pid for the error message of a second instance.
#pragma once

#include <string>

#include "common/status.hpp"

namespace dollhouse::daemon {

class InstanceLock {
 public:
  // Errors: "already_running" (message names the pid), "io_error".
  static Result<InstanceLock> acquire(const std::string& path);
  InstanceLock(InstanceLock&& other) noexcept : handle_(other.handle_) { other.handle_ = kNone; }
  InstanceLock& operator=(InstanceLock&&) = delete;
  InstanceLock(const InstanceLock&) = delete;
  ~InstanceLock();

 private:
#ifdef _WIN32
  using Handle = void*;  // HANDLE
  static constexpr Handle kNone = nullptr;
#else
  using Handle = int;
  static constexpr Handle kNone = -1;
#endif
  explicit InstanceLock(Handle handle) : handle_(handle) {}
  Handle handle_;
};

}  // namespace dollhouse::daemon
