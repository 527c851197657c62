// What the server abuse suite needs beside the server harness: a process's memory and
// descriptors from /proc, a higher descriptor limit, raw TCP connections with deadlines for
// requests no HTTP client would send, and a watch that keeps asking the abused server for a
// normal batch upload and a stats page, timing each answer.
//
// Linux only (/proc, SO_RCVBUF). A RawConnection belongs to one thread; a ServerWatch runs its
// own thread and its report() may be read from the test thread at any time.
#pragma once

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace dollhouse::testing {

// VmRSS and VmHWM (the peak the kernel recorded) of a process, in bytes; 0 when unknown.
std::size_t process_rss_bytes(int pid);
std::size_t process_peak_rss_bytes(int pid);
// Open descriptors of a process (entries of /proc/<pid>/fd); -1 when unknown.
int process_fd_count(int pid);

// Raises this process's RLIMIT_NOFILE, soft and hard, to at least `wanted` (children started
// afterwards inherit it). False when the system refuses.
bool raise_fd_limit(rlim_t wanted);

// The status code of the first HTTP response in `raw` ("HTTP/1.1 413 …" → 413), 0 if none.
int http_status(std::string_view raw);

// "400:3 413:2": how often each status was seen ("none" for no answer), for the figures.
std::string format_statuses(const std::map<int, int>& statuses);

// p-th percentile (0–100) of `values`, nearest rank; 0 for an empty set.
double percentile(std::vector<double> values, double p);

// A blocking TCP connection to 127.0.0.1:port whose every operation has a deadline.
class RawConnection {
 public:
  // receive_buffer > 0 sets SO_RCVBUF before connecting (a client that reads slowly).
  explicit RawConnection(int port, int receive_buffer = 0);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // Sends every byte before the deadline; false when the peer closed or time ran out.
  bool send_all(std::string_view bytes,
                std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Reads what arrives until the peer closes (true) or the deadline passes (false).
  bool read_until_closed(std::string& received, std::chrono::milliseconds timeout);
  // Reads what is there now without waiting; false once the peer has closed.
  bool read_available(std::string& received);

 private:
  int fd_ = -1;
};

// How often the watch asks the server for a normal batch upload and a stats page.
inline constexpr std::chrono::milliseconds kProbeInterval{100};

// Keeps a normal client of the server busy while a test abuses it: every kProbeInterval a
// batch POST (one error event, a fresh batch id, answered 202 with accepted 1) and a stats GET
// (answered 200) on one keep-alive connection opened before the abuse starts, as a daemon's
// upload and a dashboard would be. Every answer is timed.
class ServerWatch {
 public:
  struct Report {
    int probes = 0;    // requests sent
    int failures = 0;  // requests not answered as a normal client expects
    std::string first_failure;
    double p50_ms = 0, max_ms = 0;
    std::size_t peak_rss = 0;  // VmHWM of the server when read
  };

  // Starts probing on its own thread; wait for ready() before the abuse begins, so that the
  // watch's connection is admitted before any flood.
  ServerWatch(int server_pid, int port);
  ~ServerWatch();
  ServerWatch(const ServerWatch&) = delete;
  ServerWatch& operator=(const ServerWatch&) = delete;

  // Stops probing and returns the final report.
  Report stop();
  Report report() const;
  // Whether the first probes were answered (the watch works before the abuse begins).
  bool ready(std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;

 private:
  void run();

  const int pid_;
  const int port_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  Report report_;
  std::vector<double> latencies_ms_;
  std::thread thread_;
};

}  // namespace dollhouse::testing
