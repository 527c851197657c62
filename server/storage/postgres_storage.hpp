// The PostgreSQL implementation of Storage (libpq), for several stateless server instances
// sharing one database.
//
// A pool of connections per server process (postgres_pool.hpp), so that requests run on the
// database concurrently; a broken connection is replaced. A batch is one statement: the batches
// primary key (INSERT … ON CONFLICT DO NOTHING) and the events' insert run in its one
// transaction, so two instances receiving the same batch store it once. The rollup
// takes a transaction-scoped advisory lock, so only one instance aggregates at a time.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "server/storage/storage.hpp"

namespace dollhouse::server {

// Storage on `uri` (postgresql://user@host:port/db, or with ?host=/socket/dir) with at most
// `pool_size` connections; creates the schema when missing. A database that cannot be reached
// yet is not an error: every call answers "unavailable" until it can, and it is logged.
Result<std::unique_ptr<Storage>> open_postgres_storage(const std::string& uri,
                                                       std::size_t pool_size);

}  // namespace dollhouse::server
