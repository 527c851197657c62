// Local stream sockets on POSIX: the secure socket directory, peer credentials, and a blocking
// line-oriented client connection with deadlines (used by dollhousectl and the client library's
// background thread).
//
// LineConnection is movable, not copyable, and not thread-safe: one thread uses it at a time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.hpp"
#include "ipc/framing.hpp"

namespace dollhouse::ipc {

using Deadline = std::chrono::steady_clock::time_point;

// Creates `dir` (and missing parents, 0700) so that it is a real directory owned by this user
// with mode 0700. An existing directory owned by someone else, or a symlink, is an error;
// one of ours with wider permissions is tightened.
Status prepare_private_directory(const std::string& dir);

// The uid of the process at the other end of a connected Unix socket (SO_PEERCRED).
std::optional<uid_t> peer_uid(int fd);

// Creates the daemon's listening socket at `path`, mode 0600 inside a 0700 directory, with no
// moment where either is wider (the process umask is tightened around bind). A socket file
// left by a daemon that died is detected (nothing answers) and replaced; a live daemon at the
// same path is an error with code "in_use". Returns the listening descriptor.
Result<int> listen_unix(const std::string& path, int backlog);

class LineConnection {
 public:
  LineConnection() = default;
  ~LineConnection();
  LineConnection(LineConnection&& other) noexcept;
  LineConnection& operator=(LineConnection&& other) noexcept;
  LineConnection(const LineConnection&) = delete;
  LineConnection& operator=(const LineConnection&) = delete;

  // Errors: "unreachable" when nothing listens at path (no file, refused, not a socket),
  // "timeout", "io_error".
  static Result<LineConnection> connect(const std::string& path, Deadline deadline);

  bool is_open() const { return fd_ >= 0; }
  // Writes all of `line` (which must end in '\n').
  Status send(std::string_view line, Deadline deadline);
  // The next complete line, without its newline. "closed" when the peer closed first.
  Result<std::string> read_line(Deadline deadline);
  void close();

 private:
  explicit LineConnection(int fd);
  int fd_ = -1;
  LineFramer framer_{kFramerLimit};
  static constexpr std::size_t kFramerLimit = 64 * 1024 * 1024;  // replies can be large (export)
};

}  // namespace dollhouse::ipc
