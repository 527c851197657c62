#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "ipc/unix_socket.hpp"

namespace dollhouse::ipc {
namespace {

std::string errno_text(int e) {
  return std::strerror(e);
}

std::string mode_text(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// Creates `dir` with mode 0700 unless something is there already, which is left untouched. A new
// directory is set to exactly 0700, whatever the umask left of it.
Status create_missing_directory(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno == EEXIST) return Status::ok();
    return Status::error("io_error", "cannot create " + dir + ": " + errno_text(errno));
  }
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || ::fchmod(fd, 0700) != 0) {
    int e = errno;
    if (fd >= 0) ::close(fd);
    return Status::error("io_error", "cannot restrict " + dir + " to mode 0700: " + errno_text(e));
  }
  ::close(fd);
  return Status::ok();
}

// prepare_private_directory and prepare_socket_directory: the same rules, except that a shared
// directory with the sticky bit is accepted as the socket's directory.
Status prepare_directory(const std::string& dir, bool shared_sticky_allowed) {
  if (dir.empty()) return Status::error("invalid_path", "empty directory path");
  for (std::size_t pos = dir.find('/', 1); pos != std::string::npos; pos = dir.find('/', pos + 1)) {
    if (Status st = create_missing_directory(dir.substr(0, pos)); !st) return st;
  }
  if (Status st = create_missing_directory(dir); !st) return st;
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    return Status::error("io_error", "cannot inspect " + dir + ": " + errno_text(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status::error("insecure_path", dir +
                                              " is not a directory (a symlink or a file); "
                                              "remove it or choose another path");
  }
  const bool others_write = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
  const bool sticky = (st.st_mode & S_ISVTX) != 0;
  if (shared_sticky_allowed && others_write && sticky) {
    // Only a file's owner, the directory's owner and root may remove or rename a file here.
    if (st.st_uid != ::geteuid() && st.st_uid != 0) {
      return Status::error("insecure_path", dir + " is a shared directory (mode " +
                                                mode_text(st.st_mode) +
                                                ") of another user, who could replace the "
                                                "socket; choose a directory of your own");
    }
    return Status::ok();
  }
  if (st.st_uid != ::geteuid()) {
    return Status::error("insecure_path",
                         dir + " belongs to another user; choose a directory of your own");
  }
  if (others_write) {
    std::string message = dir + " is writable by other users (mode " + mode_text(st.st_mode) +
                          "), who could replace what is kept there; remove their write "
                          "permission (chmod go-w " +
                          dir + ") or choose another directory";
    if (shared_sticky_allowed) message += " (a shared one such as /tmp must have the sticky bit)";
    return Status::error("insecure_path", message);
  }
  return Status::ok();
}

}  // namespace

Status prepare_private_directory(const std::string& dir) {
  return prepare_directory(dir, /*shared_sticky_allowed=*/false);
}

Status prepare_socket_directory(const std::string& dir) {
  return prepare_directory(dir, /*shared_sticky_allowed=*/true);
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
    if (Status st = prepare_socket_directory(path.substr(0, slash)); !st) return st;
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
