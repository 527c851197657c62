// Windows named-pipe pieces under the local transport: shared by the daemon's listener
// (local_transport.hpp) and the client connection (line_connection.hpp), and exposed for the
// transport's tests. Pure functions and system calls with no shared state; safe from any thread.
#pragma once

#ifdef _WIN32

#include <string>

#include "common/status.hpp"

namespace dollhouse::ipc {

// Whether `name` is a local pipe name: \\.\pipe\ followed by at least one character.
bool is_pipe_name(const std::string& name);

// Pipe instances buffer this much in each direction; writes beyond it wait for the reader.
inline constexpr unsigned long kPipeBufferBytes = 64 * 1024;

// Creates one server instance of the pipe `name` for overlapped I/O: byte mode,
// PIPE_REJECT_REMOTE_CLIENTS, and a security descriptor whose protected DACL admits only the
// current user. `first` adds FILE_FLAG_FIRST_PIPE_INSTANCE, so that creating it fails when any
// instance of the name exists already (a squatter, or another daemon). Returns the HANDLE.
// Errors: "in_use" (the name is held), "invalid_path" (not \\.\pipe\...), "io_error".
Result<void*> create_pipe_instance(const std::string& name, bool first);

}  // namespace dollhouse::ipc

#endif  // _WIN32
