// The daemon's side of the local transport, one interface on every platform: a listener that
// hands out connected streams, the stream type sessions read and write with Asio, and the
// check that the peer runs as this user.
//
// POSIX: a Unix stream socket (unix_socket.hpp creates it with the right modes).
// Windows: the named pipe \\.\pipe\dollhouse-telemetry-<SID>; every instance is created with a
// DACL that admits only the current user, PIPE_REJECT_REMOTE_CLIENTS, overlapped I/O, and the
// first one with FILE_FLAG_FIRST_PIPE_INSTANCE so that no one can hold the name before us.
//
// A LocalListener lives on one io_context thread; its handlers run there.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>

#ifdef _WIN32
#include <boost/asio/windows/stream_handle.hpp>
#else
#include <boost/asio/local/stream_protocol.hpp>
#endif

#include "common/status.hpp"

namespace dollhouse::ipc {

#ifdef _WIN32
using LocalStream = boost::asio::windows::stream_handle;
#else
using LocalStream = boost::asio::local::stream_protocol::socket;
#endif

// Whether the process at the other end runs as the same user as this process: the peer's uid
// (SO_PEERCRED) on POSIX, the user SID of the client process's token on Windows. nullopt when
// the system cannot tell, which callers treat as "no".
std::optional<bool> peer_is_same_user(LocalStream& stream);

// Closes the stream in both directions, ignoring errors (the peer may be gone already).
void close_stream(LocalStream& stream);

// Whether an accept that failed with `ec` only means that the client went away before it was
// accepted: connection_aborted or connection_reset, and on Windows also ERROR_NO_DATA and
// ERROR_PIPE_NOT_CONNECTED (the pipe client closed its end first). The listener is fine then,
// and the next accept can start at once; any other error is the listener's own.
bool client_left_before_accept(const boost::system::error_code& ec);

class LocalListener {
 public:
  using AcceptHandler = std::function<void(const boost::system::error_code&, LocalStream)>;

  // Listens at `path`: creates the socket (POSIX, see listen_unix) or the first pipe instance
  // (Windows). Errors: "in_use" when a live daemon already listens there, "insecure_path",
  // "invalid_path", "io_error".
  static Result<LocalListener> open(const boost::asio::any_io_executor& executor,
                                    const std::string& path);
  // Takes over a listening socket opened by a service manager (systemd, launchd); `fd` belongs
  // to the listener from then on and is closed if it cannot be used. Errors: "io_error".
  // Windows has no socket activation: there it always fails with "unsupported".
  static Result<LocalListener> adopt(const boost::asio::any_io_executor& executor, int fd);

  LocalListener(LocalListener&&) noexcept;
  LocalListener& operator=(LocalListener&&) noexcept;
  ~LocalListener();

  // Accepts one connection; the handler gets operation_aborted after close().
  void async_accept(AcceptHandler handler);
  // Stops listening. A pending accept completes with operation_aborted.
  void close();

  struct Impl;

 private:
  explicit LocalListener(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;  // shared with pending operations
};

}  // namespace dollhouse::ipc
