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

// Makes sure the directory the socket goes in exists and that no one but this user (or root)
// can remove or replace a file in it, changing no directory it did not create. Missing
// directories are created with mode 0700 (see prepare_private_directory). An existing one is
// used as it is when it is owned by this user and writable by no one else, or when it is a
// shared directory with the sticky bit (such as /tmp) owned by this user or root: there only
// the socket's owner can remove it, the socket itself is 0600, and peers are checked. A symlink,
// a directory of another user, or one that others can write to without the sticky bit is an
// "insecure_path" error whose message says what to change.
Status prepare_socket_directory(const std::string& dir);

// Creates the daemon's listening socket at `path`, mode 0600, with no moment where it is wider
// (the process umask is tightened around bind), after prepare_socket_directory on its
// directory. A socket file left by a daemon that died is detected (nothing answers) and
// replaced; a live daemon at the same path is an error with code "in_use". Returns the
// listening descriptor.
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
