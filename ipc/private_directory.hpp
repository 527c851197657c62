// The private directories the daemon keeps its socket, database and logs in.
#pragma once

#include <string>

#include "common/status.hpp"

namespace dollhouse::ipc {

// Makes sure `dir` exists and only this user can change what is in it, changing no directory
// that existed before: a missing `dir` is created private, an existing one is used as it is or
// refused, never re-permissioned.
//
// POSIX: `dir` and its missing parents are created with mode 0700. An existing `dir` must be a
// real directory (not a symlink) owned by this user and writable by no one else (no group or
// other write bit, sticky or not); anything else is an "insecure_path" error whose message says
// what to change. Existing parents are not examined. Windows: a missing `dir` gets a protected
// access list that admits only the current user (missing parents get the one they inherit); an
// existing `dir` must be a real directory (not a link) owned by this user.
Status prepare_private_directory(const std::string& dir);

}  // namespace dollhouse::ipc
