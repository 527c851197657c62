#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "daemon/instance_lock.hpp"

namespace dollhouse::daemon {

Result<InstanceLock> InstanceLock::acquire(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return Status::error("io_error", "cannot open " + path + ": " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    ::close(fd);
    std::string pid = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "unknown";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    return Status::error("already_running",
                         "another dollhouse-telemetryd (pid " + pid +
                             ") is already running for this data root; stop it first, or use "
                             "`dollhousectl telemetry status` to talk to it");
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The lock holds regardless; the pid is only for messages.
  }
  return InstanceLock(fd);
}

InstanceLock::~InstanceLock() {
  if (handle_ >= 0) ::close(handle_);
}

}  // namespace dollhouse::daemon
