// A scripted stand-in for dollhouse-telemetryd on a real Unix socket, for client tests.
//
// It listens at a path, accepts any number of connections, records every line it receives and
// answers hello and sync the way the daemon does (or, per its script, stays silent or stops
// reading to play a stuck daemon). One listener thread serves all connections with poll().
// All public members are safe to call from the test thread while the listener runs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
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
  // Starts listening at once; throws std::runtime_error when the socket cannot be bound.
  explicit FakeDaemon(std::string socket_path, FakeDaemonScript script = {});
  ~FakeDaemon();
  FakeDaemon(const FakeDaemon&) = delete;
  FakeDaemon& operator=(const FakeDaemon&) = delete;

  // Closes the listener and every connection and removes the socket file. Idempotent.
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
  void serve();

  std::string socket_path_;
  FakeDaemonScript script_;
  int listen_fd_ = -1;
  int wake_read_fd_ = -1;
  int wake_write_fd_ = -1;
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::vector<std::string> lines_;
  std::size_t connections_ = 0;
  std::thread listener_;
};

// The "op" of a request line, or "" when it has none.
std::string op_of(const std::string& line);

}  // namespace dollhouse::testing
