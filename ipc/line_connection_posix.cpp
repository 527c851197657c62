#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "ipc/line_connection.hpp"
#include "ipc/unix_socket.hpp"

namespace dollhouse::ipc {
namespace {

std::string errno_text(int e) {
  return std::strerror(e);
}

int poll_timeout_ms(Deadline deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return 0;
  return static_cast<int>(std::min<long long>(left.count(), 1 << 30));
}

// Waits for `events` on fd until the deadline. Returns 1 ready, 0 timeout, -1 error.
int wait_for(int fd, short events, Deadline deadline) {
  while (true) {
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, poll_timeout_ms(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return -1;
    return rc;
  }
}

}  // namespace

LineConnection::LineConnection(int fd) : fd_(fd) {}

LineConnection::~LineConnection() {
  close();
}

LineConnection::LineConnection(LineConnection&& other) noexcept
    : framer_(std::move(other.framer_)), fd_(other.fd_) {
  other.fd_ = -1;
}

LineConnection& LineConnection::operator=(LineConnection&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = other.fd_;
    framer_ = std::move(other.framer_);
    other.fd_ = -1;
  }
  return *this;
}

bool LineConnection::is_open() const {
  return fd_ >= 0;
}

void LineConnection::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

Result<LineConnection> LineConnection::connect(const std::string& path, Deadline deadline) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return Status::error("invalid_path", "socket path is too long (" + std::to_string(path.size()) +
                                             " bytes): " + path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = open_unix_stream_socket(/*nonblocking=*/true);
  if (fd < 0) return Status::error("io_error", "socket(): " + errno_text(errno));
  LineConnection conn(fd);
  int rc_connect = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  // EAGAIN on a Unix socket means the daemon's listen backlog is full and nothing was
  // connected (unlike EINPROGRESS): try again shortly, until the deadline.
  while (rc_connect != 0 && errno == EAGAIN) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::error(line_error::kTimeout, "timed out connecting to " + path +
                                                     " (the daemon accepts no more connections)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    rc_connect = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  }
  if (rc_connect != 0) {
    int e = errno;
    if (e == ENOENT || e == ECONNREFUSED || e == ENOTSOCK || e == ENOTDIR) {
      return Status::error(line_error::kUnreachable, "no daemon is listening at " + path);
    }
    if (e == EACCES || e == EPERM) {
      return Status::error(line_error::kUnreachable, "no permission to connect to " + path);
    }
    if (e != EINPROGRESS) {
      return Status::error("io_error", "connect " + path + ": " + errno_text(e));
    }
    int rc = wait_for(fd, POLLOUT, deadline);
    if (rc == 0) return Status::error(line_error::kTimeout, "timed out connecting to " + path);
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (rc < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
      return Status::error(line_error::kUnreachable, "no daemon is listening at " + path);
    }
  }
  return conn;
}

Status LineConnection::send(std::string_view line, Deadline deadline, std::size_t* written) {
  if (fd_ < 0) return Status::error(line_error::kClosed, "connection is closed");
  std::size_t unreported = 0;
  std::size_t& done = written != nullptr ? *written : unreported;  // bytes gone out so far
  done = 0;
  while (done < line.size()) {
    ssize_t n = ::send(fd_, line.data() + done, line.size() - done, kNoSigpipe);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      int rc = wait_for(fd_, POLLOUT, deadline);
      if (rc == 0) return Status::error(line_error::kTimeout, "timed out writing to the daemon");
      if (rc < 0) return Status::error("io_error", "poll: " + errno_text(errno));
      continue;
    }
    return Status::error(line_error::kClosed, "the daemon closed the connection");
  }
  return Status::ok();
}

Result<std::string> LineConnection::read_line(Deadline deadline) {
  if (fd_ < 0) return Status::error(line_error::kClosed, "connection is closed");
  char buf[16384];
  while (true) {
    if (auto frame = framer_.next()) {
      if (frame->oversize) return Status::error("io_error", "reply line too long");
      return std::move(frame->line);
    }
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      framer_.feed(std::string_view(buf, static_cast<std::size_t>(n)));
      continue;
    }
    if (n == 0) return Status::error(line_error::kClosed, "the daemon closed the connection");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      int rc = wait_for(fd_, POLLIN, deadline);
      if (rc == 0)
        return Status::error(line_error::kTimeout, "timed out waiting for the daemon's reply");
      if (rc < 0) return Status::error("io_error", "poll: " + errno_text(errno));
      continue;
    }
    return Status::error(line_error::kClosed, "connection lost: " + errno_text(errno));
  }
}

}  // namespace dollhouse::ipc
