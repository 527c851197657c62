// The SQLite implementation of Storage: one file, WAL mode, zero setup.
//
// One connection guarded by a mutex; every method takes it for the whole call, so a batch and
// its dedup check are one transaction. Prepared statements are cached on the connection.
#pragma once

#include <memory>
#include <string>

#include "server/storage/storage.hpp"

namespace dollhouse::server {

// Opens (creating when missing) the database file at `path` and its schema. A new file, and
// the -wal and -shm files SQLite makes next to it, are mode 0600 whatever the umask; an existing
// file keeps its mode.
Result<std::unique_ptr<Storage>> open_sqlite_storage(const std::string& path);

}  // namespace dollhouse::server
