#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ipc/unix_socket.hpp"

namespace dollhouse::ipc {
namespace {

std::string errno_text(int e) {
  return std::strerror(e);
}

}  // namespace

Status prepare_private_directory(const std::string& dir) {
  if (dir.empty()) return Status::error("invalid_path", "empty directory path");
  // Parents first, each created 0700 if missing (existing ones are left as they are).
  for (std::size_t pos = dir.find('/', 1); pos != std::string::npos; pos = dir.find('/', pos + 1)) {
    std::string parent = dir.substr(0, pos);
    if (::mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST) {
      return Status::error("io_error", "cannot create " + parent + ": " + errno_text(errno));
    }
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::error("io_error", "cannot create " + dir + ": " + errno_text(errno));
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    return Status::error("io_error", "cannot inspect " + dir + ": " + errno_text(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status::error("insecure_path", dir +
                                              " is not a directory (a symlink or a file); "
                                              "remove it or choose another path");
  }
  if (st.st_uid != ::geteuid()) {
    return Status::error("insecure_path",
                         dir + " belongs to another user; choose a directory of your own");
  }
  if ((st.st_mode & 0077) != 0 && ::chmod(dir.c_str(), 0700) != 0) {
    return Status::error("io_error",
                         "cannot restrict " + dir + " to mode 0700: " + errno_text(errno));
  }
  return Status::ok();
}

std::optional<uid_t> peer_uid(int fd) {
#ifdef SO_PEERCRED
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return std::nullopt;
  return cred.uid;
#else
  uid_t uid = 0;
  gid_t gid = 0;
  if (::getpeereid(fd, &uid, &gid) != 0) return std::nullopt;
  return uid;
#endif
}

int open_unix_stream_socket(bool nonblocking) {
#ifdef SOCK_CLOEXEC
  return ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
#else
  // No atomic flags (macOS): set them right after; this library does not fork in between.
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  int one = 1;
  if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 ||
      (nonblocking && ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) != 0)
#ifdef SO_NOSIGPIPE
      || ::setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one) != 0
#endif
  ) {
    int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  (void)one;
  return fd;
#endif
}

Result<int> listen_unix(const std::string& path, int backlog) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return Status::error("invalid_path", "socket path is empty or too long (at most " +
                                             std::to_string(sizeof addr.sun_path - 1) +
                                             " bytes): " + path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  auto slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    if (Status st = prepare_private_directory(path.substr(0, slash)); !st) return st;
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Status::error("in_use", path +
                                         " exists and is not a socket; remove it or choose "
                                         "another --socket path");
    }
    auto probe = LineConnection::connect(
        path, std::chrono::steady_clock::now() + std::chrono::milliseconds(500));
    if (probe) {
      return Status::error("in_use", "another dollhouse-telemetryd is already listening at " +
                                         path +
                                         "; stop it first (dollhousectl shows its pid in "
                                         "`telemetry status`)");
    }
    if (st.st_uid != ::geteuid()) {
      return Status::error("insecure_path", path + " belongs to another user");
    }
    ::unlink(path.c_str());  // stale: left by a daemon that is gone
  }
  int fd = open_unix_stream_socket(/*nonblocking=*/false);
  if (fd < 0) return Status::error("io_error", "socket(): " + errno_text(errno));
  mode_t old_mask = ::umask(0177);
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int bind_errno = errno;
  ::umask(old_mask);
  if (rc != 0) {
    ::close(fd);
    return Status::error("io_error", "cannot bind " + path + ": " + errno_text(bind_errno));
  }
  if (::chmod(path.c_str(), 0600) != 0 || ::listen(fd, backlog) != 0) {
    int e = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return Status::error("io_error", "cannot listen on " + path + ": " + errno_text(e));
  }
  return fd;
}

}  // namespace dollhouse::ipc
