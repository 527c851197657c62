// The client side of the local transport: a blocking, line-oriented connection to the daemon
// with deadlines, over a Unix socket on POSIX and a named pipe on Windows. dollhousectl and the
// client library's background thread use it.
//
// LineConnection is movable, not copyable, and not thread-safe: one thread uses it at a time.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.hpp"
#include "ipc/framing.hpp"

namespace dollhouse::ipc {

using Deadline = std::chrono::steady_clock::time_point;

// Status codes of LineConnection's errors, for callers that act on them.
namespace line_error {
inline constexpr const char* kUnreachable = "unreachable";
inline constexpr const char* kUntrusted = "untrusted";
inline constexpr const char* kTimeout = "timeout";
inline constexpr const char* kClosed = "closed";
}  // namespace line_error

class LineConnection {
 public:
  LineConnection() = default;
  ~LineConnection();
  LineConnection(LineConnection&& other) noexcept;
  LineConnection& operator=(LineConnection&& other) noexcept;
  LineConnection(const LineConnection&) = delete;
  LineConnection& operator=(const LineConnection&) = delete;

  // `path` is a socket path on POSIX and a pipe name (\\.\pipe\...) on Windows.
  // Errors: "unreachable" when nothing listens there (no file, refused, not a socket, no pipe),
  // "untrusted" when the pipe's server runs as another user (Windows), "timeout", "io_error".
  static Result<LineConnection> connect(const std::string& path, Deadline deadline);

  bool is_open() const;
  // Writes all of `line` (one or more lines, each ending in '\n'). `written`, when given, says
  // how many bytes went out before a failure (all of them on success).
  Status send(std::string_view line, Deadline deadline, std::size_t* written = nullptr);
  // The next complete line, without its newline. "closed" when the peer closed first. A
  // deadline in the past still returns a line that has already arrived.
  Result<std::string> read_line(Deadline deadline);
  void close();

 private:
  LineFramer framer_{kFramerLimit};
  static constexpr std::size_t kFramerLimit = 64 * 1024 * 1024;  // replies can be large (export)
#ifdef _WIN32
  explicit LineConnection(void* pipe);
  void* pipe_ = nullptr;   // HANDLE, opened for overlapped I/O
  void* event_ = nullptr;  // HANDLE of the manual-reset event each overlapped call waits on
#else
  explicit LineConnection(int fd);
  int fd_ = -1;
#endif
};

}  // namespace dollhouse::ipc
