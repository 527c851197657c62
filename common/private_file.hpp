// Writing a file only this user can read, replacing the old one atomically: the daemon's
// config and `dollhousectl telemetry export --output`.
#pragma once

#include <string>

#include "common/status.hpp"

namespace dollhouse {

// Writes `text` to `path`: first to "<path>.tmp", created exclusively (a temporary file that
// someone else, or an earlier run, left is removed, never written into) with mode 0600 on POSIX
// or an access list for this user only on Windows, flushed to disk, then renamed over `path`.
// Errors: "io_error", with the path and the system's reason.
Status write_private_file(const std::string& path, const std::string& text);

}  // namespace dollhouse
