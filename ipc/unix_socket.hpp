// Local stream sockets on POSIX: the secure socket directory, peer credentials and the daemon's
// listening socket. The client side is LineConnection (line_connection.hpp).
#pragma once

#ifndef _WIN32

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

}  // namespace dollhouse::ipc

#endif  // !_WIN32
