#include "server/storage/postgres_storage.hpp"
#include "server/storage/sqlite_storage.hpp"
#include "server/storage/storage.hpp"

namespace dollhouse::server {

Result<std::unique_ptr<Storage>> open_storage(const std::string& database, std::size_t pool_size) {
  if (database.rfind("postgresql://", 0) == 0 || database.rfind("postgres://", 0) == 0) {
    return open_postgres_storage(database, pool_size);
  }
  return open_sqlite_storage(database);
}

}  // namespace dollhouse::server
