// Clients that misbehave on purpose, and the measures a hostile-input test takes of the daemon:
// raw Unix stream sockets with bounded waits, a well-behaved client that asks for `status` over
// a new connection again and again and keeps its latencies, and what /proc says about a
// process's memory and descriptors.
//
// Linux only. A RawSocket belongs to one thread; a StatusProbe runs its own thread and its
// figures() may be read from any thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace dollhouse::testing {

using Millis = std::chrono::milliseconds;

// A client end of the daemon's socket as a hostile program holds it: a file descriptor,
// close-on-exec (so children started meanwhile never inherit thousands of them), closed with
// the object.
class RawSocket {
 public:
  RawSocket() = default;
  // Connects to `path`, waiting at most `timeout` for room in a full listen backlog.
  static RawSocket connect(const std::string& path, Millis timeout);
  ~RawSocket();
  RawSocket(RawSocket&& other) noexcept;
  RawSocket& operator=(RawSocket&& other) noexcept;
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  void close();
  // Writes all of `bytes` before `timeout` runs out; false if the daemon closed or stopped
  // reading for that long.
  bool send_all(std::string_view bytes, Millis timeout);
  // Writes what fits without waiting; the bytes written, or -1 once the daemon closed.
  long send_some(std::string_view bytes);
  // The next complete line (without its newline), or nullopt on timeout or close.
  std::optional<std::string> read_line(Millis timeout);
  // Whether the daemon has closed its end (a read finds end of file or a reset) within
  // `timeout`; bytes that arrive first are discarded.
  bool closed_by_peer(Millis timeout);

 private:
  explicit RawSocket(int fd) : fd_(fd) {}
  int fd_ = -1;
  std::string buffer_;
};

// Latencies of `status` asked by a well-behaved client, each time over a new connection as
// dollhousectl does, every `interval` on its own thread until stop().
class StatusProbe {
 public:
  struct Figures {
    std::size_t requests = 0;
    std::size_t failures = 0;  // no reply, or not ok, within the probe's timeout
    Millis p50{0}, p99{0}, max{0};
    std::string last_failure;
  };

  StatusProbe(std::string socket_path, Millis interval);
  ~StatusProbe();
  StatusProbe(const StatusProbe&) = delete;
  StatusProbe& operator=(const StatusProbe&) = delete;

  void stop();
  Figures figures() const;

 private:
  void run();

  std::string socket_path_;
  Millis interval_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<std::chrono::microseconds> latencies_;
  std::size_t failures_ = 0;
  std::string last_failure_;
  std::thread thread_;
};

// Resident memory of process `pid`: VmRSS from /proc/<pid>/status and the private dirty pages
// from /proc/<pid>/smaps_rollup, in KiB.
struct ProcessMemory {
  std::int64_t rss_kib = 0;
  std::int64_t private_dirty_kib = 0;
};
std::optional<ProcessMemory> process_memory(pid_t pid);

// How many descriptors process `pid` has open (/proc/<pid>/fd), -1 when it cannot be read.
int open_descriptors(pid_t pid);

// Raises this process's RLIMIT_NOFILE to at least `wanted` (the hard limit too when allowed);
// false with `error` set when it cannot.
bool raise_descriptor_limit(std::uint64_t wanted, std::string& error);

}  // namespace dollhouse::testing
