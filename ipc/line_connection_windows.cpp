// The client side of the local transport on Windows: a named pipe opened for overlapped I/O,
// each read and write waited for until its deadline.
#include <windows.h>

#include <algorithm>
#include <optional>

#include "common/win32.hpp"
#include "ipc/line_connection.hpp"
#include "ipc/named_pipe.hpp"

namespace dollhouse::ipc {

using win32::error_text;
using win32::widen;

namespace {

DWORD wait_ms(Deadline deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return 0;
  return static_cast<DWORD>(std::min<long long>(left.count(), 0x7fffffff));
}

bool is_disconnect(DWORD err) {
  return err == ERROR_BROKEN_PIPE || err == ERROR_NO_DATA || err == ERROR_PIPE_NOT_CONNECTED ||
         err == ERROR_HANDLE_EOF;
}

// One overlapped ReadFile or WriteFile, waited for until the deadline. On timeout the call is
// cancelled and its cancellation awaited, so `buffer` is never written after this returns; a
// transfer that completed while being cancelled is kept. Returns the bytes moved, or an error
// with code line_error::kTimeout, line_error::kClosed or "io_error".
Result<DWORD> transfer(HANDLE pipe, HANDLE event, bool write, void* buffer, DWORD size,
                       Deadline deadline) {
  OVERLAPPED ov{};
  ov.hEvent = event;
  ::ResetEvent(event);
  BOOL ok = write ? ::WriteFile(pipe, buffer, size, nullptr, &ov)
                  : ::ReadFile(pipe, buffer, size, nullptr, &ov);
  DWORD err = ok ? ERROR_SUCCESS : ::GetLastError();
  if (!ok && err != ERROR_IO_PENDING) {
    if (is_disconnect(err))
      return Status::error(line_error::kClosed, "the daemon closed the connection");
    return Status::error("io_error", error_text(err));
  }
  bool timed_out = false;
  if (!ok && ::WaitForSingleObject(event, wait_ms(deadline)) == WAIT_TIMEOUT) {
    timed_out = true;
    ::CancelIoEx(pipe, &ov);
  }
  DWORD moved = 0;
  if (!::GetOverlappedResult(pipe, &ov, &moved, TRUE)) {
    err = ::GetLastError();
    if (err == ERROR_OPERATION_ABORTED && timed_out) {
      return Status::error(line_error::kTimeout, write
                                                     ? "timed out writing to the daemon"
                                                     : "timed out waiting for the daemon's reply");
    }
    if (is_disconnect(err))
      return Status::error(line_error::kClosed, "the daemon closed the connection");
    return Status::error("io_error", error_text(err));
  }
  return moved;
}

}  // namespace

LineConnection::LineConnection(void* pipe) : pipe_(pipe) {
  event_ = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
}

LineConnection::~LineConnection() {
  close();
}

LineConnection::LineConnection(LineConnection&& other) noexcept
    : framer_(std::move(other.framer_)), pipe_(other.pipe_), event_(other.event_) {
  other.pipe_ = nullptr;
  other.event_ = nullptr;
}

LineConnection& LineConnection::operator=(LineConnection&& other) noexcept {
  if (this != &other) {
    close();
    framer_ = std::move(other.framer_);
    pipe_ = other.pipe_;
    event_ = other.event_;
    other.pipe_ = nullptr;
    other.event_ = nullptr;
  }
  return *this;
}

bool LineConnection::is_open() const {
  return pipe_ != nullptr;
}

void LineConnection::close() {
  if (pipe_ != nullptr) ::CloseHandle(static_cast<HANDLE>(pipe_));
  if (event_ != nullptr) ::CloseHandle(static_cast<HANDLE>(event_));
  pipe_ = nullptr;
  event_ = nullptr;
}

Result<LineConnection> LineConnection::connect(const std::string& path, Deadline deadline) {
  if (!is_pipe_name(path)) {
    return Status::error("invalid_path", "not a local pipe name (\\\\.\\pipe\\...): " + path);
  }
  const std::wstring name = widen(path);
  while (true) {
    // SECURITY_IDENTIFICATION: the server may learn who we are, never act as us.
    HANDLE pipe = ::CreateFileW(
        name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
        FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, nullptr);
    if (pipe != INVALID_HANDLE_VALUE) {
      LineConnection conn(pipe);
      if (conn.event_ == nullptr) return Status::error("io_error", error_text(::GetLastError()));
      // Talk only to a daemon of our own: a pipe held by another user is a squatter.
      ULONG server_pid = 0;
      std::optional<bool> same = std::nullopt;
      if (::GetNamedPipeServerProcessId(pipe, &server_pid)) {
        same = win32::process_runs_as_current_user(server_pid);
      }
      if (!same.value_or(false)) {
        return Status::error(line_error::kUntrusted,
                             "the process serving " + path +
                                 " does not run as this user; refusing to talk "
                                 "to it");
      }
      return conn;
    }
    DWORD err = ::GetLastError();
    if (err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND) {
      return Status::error(line_error::kUnreachable, "no daemon is listening at " + path);
    }
    if (err == ERROR_ACCESS_DENIED) {
      return Status::error(line_error::kUnreachable, "no permission to connect to " + path);
    }
    if (err != ERROR_PIPE_BUSY) {
      return Status::error("io_error", "cannot open " + path + ": " + error_text(err));
    }
    // Every instance is busy: wait for one, at most until the deadline.
    DWORD left = wait_ms(deadline);
    if (left == 0) return Status::error(line_error::kTimeout, "timed out connecting to " + path);
    ::WaitNamedPipeW(name.c_str(), std::min<DWORD>(left, 50));
  }
}

Status LineConnection::send(std::string_view line, Deadline deadline, std::size_t* written) {
  if (pipe_ == nullptr) return Status::error(line_error::kClosed, "connection is closed");
  std::size_t unreported = 0;
  std::size_t& done = written != nullptr ? *written : unreported;  // bytes gone out so far
  done = 0;
  while (done < line.size()) {
    DWORD chunk = static_cast<DWORD>(std::min<std::size_t>(line.size() - done, 1 << 20));
    auto moved = transfer(static_cast<HANDLE>(pipe_), static_cast<HANDLE>(event_), true,
                          const_cast<char*>(line.data() + done), chunk, deadline);
    if (!moved) return moved.status();
    done += *moved;
  }
  return Status::ok();
}

Result<std::string> LineConnection::read_line(Deadline deadline) {
  if (pipe_ == nullptr) return Status::error(line_error::kClosed, "connection is closed");
  char buf[16384];
  while (true) {
    if (auto frame = framer_.next()) {
      if (frame->oversize) return Status::error("io_error", "reply line too long");
      return std::move(frame->line);
    }
    auto moved = transfer(static_cast<HANDLE>(pipe_), static_cast<HANDLE>(event_), false, buf,
                          sizeof buf, deadline);
    if (!moved) return moved.status();
    framer_.feed(std::string_view(buf, *moved));
  }
}

}  // namespace dollhouse::ipc
