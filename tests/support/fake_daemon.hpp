// A scripted stand-in for dollhouse-telemetryd on the real local transport (a Unix socket, or a
// named pipe on Windows), for client tests.
//
// It listens at a path, accepts any number of connections, records every line it receives and
// answers hello and sync the way the daemon does (or, per its script, stays silent or stops
// reading to play a stuck daemon). One thread runs an io_context that serves all connections
// through ipc::LocalListener, the listener the daemon itself uses.
// All public members are safe to call from the test thread while the listener runs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dollhouse::testing {

struct FakeDaemonScript {
  bool answer_hello = true;
  bool answer_sync = true;
  // False: once hello is answered, the connection is never read again (a stuck daemon whose
  // socket buffer fills up).
  bool read_after_hello = true;
};

class FakeDaemon {
 public:
  // Starts listening at once; throws std::runtime_error when it cannot listen at the path.
  explicit FakeDaemon(std::string socket_path, FakeDaemonScript script = {});
  ~FakeDaemon();
  FakeDaemon(const FakeDaemon&) = delete;
  FakeDaemon& operator=(const FakeDaemon&) = delete;

  // Closes the listener and every connection (the socket file goes with it). Idempotent.
  void stop();

  // Every line received so far (without newline), in arrival order over all connections.
  std::vector<std::string> lines() const;
  // Received lines whose "op" is `op`.
  std::vector<std::string> lines_with_op(const std::string& op) const;
  std::size_t connections_accepted() const;

  // Waits until `ready(lines)` holds or the timeout passes; returns whether it holds.
  bool wait_until(const std::function<bool(const std::vector<std::string>&)>& ready,
                  std::chrono::milliseconds timeout) const;
  bool wait_for_op_count(const std::string& op, std::size_t count,
                         std::chrono::milliseconds timeout) const;

 private:
  struct Server;
  friend struct Server;

  std::string socket_path_;
  FakeDaemonScript script_;
  std::unique_ptr<Server> server_;
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::vector<std::string> lines_;
  std::size_t connections_ = 0;
  std::thread thread_;
};

// The "op" of a request line, or "" when it has none.
std::string op_of(const std::string& line);

}  // namespace dollhouse::testing
