// The private directories the daemon keeps its socket, database and logs in.
#pragma once

#include <string>

#include "common/status.hpp"

namespace dollhouse::ipc {

// Creates `dir` (and missing parents) so that only this user can use it. POSIX: a real
// directory owned by this user with mode 0700; an existing directory owned by someone else, or a
// symlink, is an error; one of ours with wider permissions is tightened. Windows: the
// directory gets a protected access list that admits only the current user.
Status prepare_private_directory(const std::string& dir);

}  // namespace dollhouse::ipc
