// A throwaway PostgreSQL cluster for the server's tests: initdb into a private temp directory,
// started with pg_ctl on a Unix socket only (no TCP port), as the `postgres` user (or `nobody`)
// when the tests run as root, stopped and removed when the test program exits.
//
// Started at most once per test program, on first use. Thread-compatible: call from the test
// thread. When the PostgreSQL server binaries are not installed, available() is false and
// reason() says what is missing, so tests can skip with a clear message.
#pragma once

#include <string>
#include <vector>

#include "tests/support/child_process.hpp"

namespace dollhouse::testing {

class PostgresCluster {
 public:
  // kTesting: fsync off, for tests that check behaviour. kDurable: PostgreSQL's defaults but
  // synchronous_commit=off, which loses no committed data on a crash of the database process and
  // at most the last moments on a power loss, what SQLite's WAL with synchronous=NORMAL (the
  // server's setting) promises: the two backends compared on equal terms, for benchmarks.
  enum class Durability { kTesting, kDurable };

  // The shared cluster (kTesting), started on first call.
  static PostgresCluster& instance();
  explicit PostgresCluster(Durability durability);

  bool available() const { return !uri_.empty(); }
  const std::string& reason() const { return reason_; }
  // postgresql:///postgres?host=<socket dir>&user=postgres
  const std::string& uri() const { return uri_; }
  // Empties every table of the server's schema (a fresh start for one test).
  bool truncate_server_tables() const;
  // Stops the database (fast shutdown: connections are closed) and starts it again, as a
  // restart under load does; false with last_error() when pg_ctl fails.
  bool stop();
  bool start();
  const std::string& last_error() const { return last_error_; }

  ~PostgresCluster();
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

 private:
  RunResult run_as_owner(std::vector<std::string> argv) const;
  Durability durability_;
  std::string dir_, bin_, run_as_, uri_, reason_, last_error_;
};

}  // namespace dollhouse::testing
