// What the daemon's process does to itself at start and exit, per platform.
//
// POSIX: files are created private (umask 077), and a client that disconnects mid-write must not
// kill the daemon with SIGPIPE; at exit the socket file it created is removed. Windows needs
// neither: files get their access list at creation, and a pipe's name goes with its last handle.
// Main thread only, before other threads start (start) or after they stopped (exit).
#pragma once

#include <string>

namespace dollhouse::daemon {

void prepare_daemon_process();
// Removes the listening socket the daemon created itself (never one a service manager passed).
void remove_own_socket(const std::string& path);

}  // namespace dollhouse::daemon
