// One daemon per data root: an exclusive flock on <root>/telemetryd.lock, held for the life of
// the process and released by the kernel when it dies (so a kill -9 leaves nothing stale).
// The file holds the owner's pid for the error message of a second instance.
#pragma once

#include <string>

#include "common/status.hpp"

namespace dollhouse::daemon {

class InstanceLock {
 public:
  // Errors: "already_running" (message names the pid), "io_error".
  static Result<InstanceLock> acquire(const std::string& path);
  InstanceLock(InstanceLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  InstanceLock& operator=(InstanceLock&&) = delete;
  InstanceLock(const InstanceLock&) = delete;
  ~InstanceLock();

 private:
  explicit InstanceLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace dollhouse::daemon
