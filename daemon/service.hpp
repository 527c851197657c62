// Service-manager integration without libsystemd: socket activation (the listening socket
// handed over as fd 3 with LISTEN_PID/LISTEN_FDS) and the notify protocol (READY=1 and
// STOPPING=1 sent as datagrams to $NOTIFY_SOCKET).
//
// The parsing functions are pure and take the environment as an EnvLookup so tests can pass a
// fixed map. take_activated_socket() changes the process environment (it unsets LISTEN_*), so
// call it from the main thread before any other thread starts. notify_service_manager() is
// safe from any thread.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "common/environment.hpp"
#include "common/status.hpp"

namespace dollhouse::daemon {

// The first descriptor a service manager passes (SD_LISTEN_FDS_START).
inline constexpr int kListenFdsStart = 3;

// How many descriptors the service manager passed to process `self`: LISTEN_FDS when
// LISTEN_PID names `self` and LISTEN_FDS is a positive number, else nullopt (not activated, or
// the variables were meant for another process).
std::optional<int> activated_fd_count(const EnvLookup& env, pid_t self);

// A socket handed over by the service manager.
struct ActivatedSocket {
  int fd = -1;
  std::string path;  // the bound path as the kernel reports it, "" when unnamed
};

// When this process was socket-activated, checks that fd 3 is a listening AF_UNIX stream
// socket, marks it close-on-exec, removes LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES from the
// environment and returns it. nullopt when not activated. Errors ("bad_socket") when fd 3 is
// not what a service manager should pass.
Result<std::optional<ActivatedSocket>> take_activated_socket();

// Where NOTIFY_SOCKET points: an absolute path, or an abstract name when it starts with '@'
// (the '@' stands for the leading NUL byte). Returns the bytes for sun_path and their length;
// nullopt for an empty, relative or too long value.
struct NotifyAddress {
  std::string sun_path;  // exactly the bytes to copy, starting with '\0' when abstract
};
std::optional<NotifyAddress> parse_notify_socket(std::string_view value);

// Sends `state` (for example "READY=1") to $NOTIFY_SOCKET when it is set. Ok and does nothing
// when it is not set; an error when it is set but the datagram cannot be sent.
Status notify_service_manager(std::string_view state, const EnvLookup& env);

}  // namespace dollhouse::daemon
