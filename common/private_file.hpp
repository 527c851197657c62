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

// Rewrites the existing file at `path` with `text` in the blocks it already holds, for when no
// new file can be made (a full disk): no temporary file, no rename, no new blocks. Three steps,
// each flushed to disk before the next: the first byte is replaced by kTornFileMarker, the rest
// of `text` is written over the old content and the file cut to its length, then the first
// byte of `text` is written. A crash at any moment leaves the old content, the new content, or
// a file that starts with kTornFileMarker and so is not JSON (the caller must treat such a file
// as damaged). Preconditions: `text` is not empty and does not start with kTornFileMarker.
// Errors: "no_space" when `text` is larger than what the file has allocated (nothing written),
// "io_error" otherwise (the file may then start with kTornFileMarker).
Status overwrite_private_file_in_place(const std::string& path, const std::string& text);

// What the first byte of a file being rewritten in place is while the rewrite is under way.
inline constexpr char kTornFileMarker = '#';

}  // namespace dollhouse
