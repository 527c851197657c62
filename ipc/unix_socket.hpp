// Local stream sockets on POSIX: the secure socket directory, peer credentials and the daemon's
// listening socket. The client side is LineConnection (line_connection.hpp).
#pragma once

#ifndef _WIN32

#include <sys/socket.h>
#include <sys/types.h>

#include <optional>
#include <string>

#include "common/status.hpp"
#include "ipc/line_connection.hpp"
#include "ipc/private_directory.hpp"

namespace dollhouse::ipc {

// The uid of the process at the other end of a connected Unix socket (SO_PEERCRED on Linux,
// getpeereid elsewhere).
std::optional<uid_t> peer_uid(int fd);

// Creates the daemon's listening socket at `path`, mode 0600 inside a 0700 directory, with no
// moment where either is wider (the process umask is tightened around bind). A socket file
// left by a daemon that died is detected (nothing answers) and replaced; a live daemon at the
// same path is an error with code "in_use". Returns the listening descriptor.
Result<int> listen_unix(const std::string& path, int backlog);

// A new AF_UNIX stream socket, close-on-exec, optionally non-blocking, whose writes never raise
// SIGPIPE where the system offers a per-socket switch (SO_NOSIGPIPE); elsewhere send with
// kNoSigpipe. -1 with errno set on failure.
int open_unix_stream_socket(bool nonblocking);
#ifdef MSG_NOSIGNAL
inline constexpr int kNoSigpipe = MSG_NOSIGNAL;
#else
inline constexpr int kNoSigpipe = 0;
#endif

}  // namespace dollhouse::ipc

#endif  // !_WIN32
