// The PostgreSQL implementation of Storage (libpq), for several stateless server instances
// sharing one database.
//
// One connection per server process, guarded by a mutex and re-established when it breaks.
// Deduplication relies on the batches primary key (INSERT … ON CONFLICT DO NOTHING inside the
// batch's transaction), so two instances receiving the same batch store it once. The rollup
// takes a transaction-scoped advisory lock, so only one instance aggregates at a time.
#pragma once

#include <memory>
#include <string>

#include "server/storage/storage.hpp"

namespace dollhouse::server {

// Connects to `uri` (postgresql://user@host:port/db, or with ?host=/socket/dir) and creates
// the schema when missing.
Result<std::unique_ptr<Storage>> open_postgres_storage(const std::string& uri);

}  // namespace dollhouse::server
