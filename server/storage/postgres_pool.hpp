// A pool of libpq connections for the PostgreSQL storage, so that the requests of one server
// instance run on the database concurrently instead of one after another.
//
// Connections are opened on demand, up to the pool's size, and each keeps the statements it has
// prepared. A connection that breaks (the database restarted, the network dropped it) is closed
// when its lease ends and a new one is opened for the next request. While the database cannot be
// reached, acquire() fails at once with "unavailable" (the routes answer 503 with Retry-After)
// and a new connection is tried at most once per kReconnectInterval, so a database that is down
// costs a request no waiting and the database no storm of connection attempts.
//
// Thread-safe: any thread may acquire; a lease and its connection belong to one thread at a time.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"

namespace dollhouse::server::pg {

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

// A statement the storage runs, prepared once per connection under `name`.
struct Sql {
  const char* name;
  const char* text;
};

// How long acquire() waits for a connection when all of them are in use.
inline constexpr std::chrono::seconds kPoolWait{5};
// After a failed connection attempt, requests fail at once for this long before the next try.
inline constexpr std::chrono::seconds kReconnectInterval{1};
// libpq's connect_timeout unless the URI sets its own: a database host that does not answer
// costs a request at most this long.
inline constexpr int kConnectTimeoutSeconds = 5;
// A statement that runs longer is cancelled by the database (statement_timeout), so that no
// request waits on a stuck lock for longer than this.
inline constexpr std::chrono::seconds kStatementTimeout{30};

// One connection and the statements prepared on it.
class Connection {
 public:
  explicit Connection(PGconn* conn) : conn_(conn) {}
  ~Connection() { PQfinish(conn_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs `sql` (prepared on first use) with text parameters bound as $1, $2, … (never pasted
  // into the SQL). Errors: "unavailable" (the connection is gone), "busy" (serialization
  // failure, deadlock, lock or statement timeout: retry later), "io_error" otherwise.
  Result<PgResult> run(const Sql& sql, const std::vector<std::string>& params);
  // A statement without parameters, not prepared (BEGIN, COMMIT, SET …).
  Status exec(const char* sql);
  bool broken() const { return PQstatus(conn_) != CONNECTION_OK; }

 private:
  Status failure(PGresult* r) const;

  PGconn* conn_;
  std::set<std::string> prepared_;
};

class Pool {
 public:
  // `setup` runs on every new connection before its first use (session settings); the first
  // connection that succeeds also runs `first_setup` (the schema) until that succeeds once.
  using Setup = std::function<Status(Connection&)>;
  Pool(std::string uri, std::size_t size, Setup setup, Setup first_setup);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  class Lease {
   public:
    Lease(Pool& pool, std::unique_ptr<Connection> conn, bool reused)
        : pool_(&pool), conn_(std::move(conn)), reused_(reused) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_.get(); }
    // Whether the connection had served an earlier request (it may have broken while idle).
    bool reused() const { return reused_; }

   private:
    Pool* pool_;
    std::unique_ptr<Connection> conn_;
    bool reused_;
  };

  Result<Lease> acquire();

  // Runs `work` on a pooled connection. When it fails because a connection that had been idle
  // turned out broken (the database restarted since), it runs once more on a new connection:
  // every statement the storage runs is atomic, so running it again is safe.
  template <typename T>
  Result<T> with_connection(const std::function<Result<T>(Connection&)>& work) {
    for (int attempt = 0;; ++attempt) {
      auto lease = acquire();
      if (!lease) return lease.status();
      Result<T> result = work(**lease);
      if (result || attempt > 0 || !lease->reused() || !(*lease)->broken()) return result;
    }
  }

  std::size_t size() const { return size_; }

 private:
  void give_back(std::unique_ptr<Connection> conn);
  Result<std::unique_ptr<Connection>> connect();

  const std::string uri_;
  const std::size_t size_;
  Setup setup_, first_setup_;

  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t open_ = 0;  // idle and leased
  bool first_setup_done_ = false;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::string last_error_;
};

// A PostgreSQL text[] literal of `items` ({"a","b\"c"}), for a parameter cast to text[] (or
// float8[]): one parameter carries a whole batch, so a batch is one statement.
std::string text_array(const std::vector<std::string_view>& items);

}  // namespace dollhouse::server::pg
