// A throwaway PostgreSQL cluster for the server's tests: initdb into a private temp directory,
// started with pg_ctl on a Unix socket only (no TCP port), as the `postgres` user (or `nobody`)
// when the tests run as root, stopped and removed when the test program exits.
//
// Started at most once per test program, on first use. Thread-compatible: call from the test
// thread. When the PostgreSQL server binaries are not installed, available() is false and
// reason() says what is missing, so tests can skip with a clear message.
#pragma once

#include <string>

namespace dollhouse::testing {

class PostgresCluster {
 public:
  // The shared cluster, started on first call.
  static PostgresCluster& instance();

  bool available() const { return !uri_.empty(); }
  const std::string& reason() const { return reason_; }
  // postgresql:///postgres?host=<socket dir>&user=postgres
  const std::string& uri() const { return uri_; }
  // Empties every table of the server's schema (a fresh start for one test).
  bool truncate_server_tables() const;

  ~PostgresCluster();
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

 private:
  PostgresCluster();
  std::string dir_, bin_, run_as_, uri_, reason_;
};

}  // namespace dollhouse::testing
