#include "tests/fault/hostile_clients.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/support/daemon_harness.hpp"

namespace dollhouse::testing {

using SteadyClock = std::chrono::steady_clock;

namespace {

int remaining_ms(SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<Millis>(deadline - SteadyClock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// Waits until `fd` is ready for `events` or the deadline passes; the poll revents, 0 on timeout.
short wait_ready(int fd, short events, SteadyClock::time_point deadline) {
  while (true) {
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc > 0) return p.revents;
    if (rc == 0) return 0;
    if (errno != EINTR) return POLLERR;
  }
}

}  // namespace

RawSocket RawSocket::connect(const std::string& path, Millis timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return RawSocket();
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return RawSocket();
  // A blocking connect to a full backlog waits for room up to the send timeout.
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int rc;
  do {
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    ::close(fd);
    return RawSocket();
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return RawSocket(fd);
}

RawSocket::~RawSocket() {
  close();
}

RawSocket::RawSocket(RawSocket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)) {}

RawSocket& RawSocket::operator=(RawSocket&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    buffer_ = std::move(other.buffer_);
  }
  return *this;
}

void RawSocket::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

long RawSocket::send_some(std::string_view bytes) {
  if (fd_ < 0) return -1;
  while (true) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) return static_cast<long>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    return -1;
  }
}

bool RawSocket::send_all(std::string_view bytes, Millis timeout) {
  auto deadline = SteadyClock::now() + timeout;
  while (!bytes.empty()) {
    long n = send_some(bytes);
    if (n < 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
    if (bytes.empty()) break;
    short ready = wait_ready(fd_, POLLOUT, deadline);
    if (ready == 0 || (ready & (POLLERR | POLLHUP)) != 0) return false;
  }
  return true;
}

std::optional<std::string> RawSocket::read_line(Millis timeout) {
  auto deadline = SteadyClock::now() + timeout;
  while (fd_ >= 0) {
    auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    char chunk[16 * 1024];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) return std::nullopt;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return std::nullopt;
    if (wait_ready(fd_, POLLIN, deadline) == 0) return std::nullopt;
  }
  return std::nullopt;
}

bool RawSocket::closed_by_peer(Millis timeout) {
  auto deadline = SteadyClock::now() + timeout;
  while (fd_ >= 0) {
    char chunk[4096];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n == 0) return true;
    if (n > 0 || errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return true;  // reset by the daemon
    if (wait_ready(fd_, POLLIN, deadline) == 0) return false;
  }
  return true;
}

StatusProbe::StatusProbe(std::string socket_path, Millis interval)
    : socket_path_(std::move(socket_path)), interval_(interval), thread_([this] { run(); }) {}

StatusProbe::~StatusProbe() {
  stop();
}

void StatusProbe::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void StatusProbe::run() {
  // Longer than any latency the tests accept, so a slow answer is measured, not lost.
  constexpr auto kProbeTimeout = std::chrono::seconds(10);
  while (!stopping_) {
    auto start = SteadyClock::now();
    TestClient client(socket_path_);
    nlohmann::json reply;
    if (client.connected()) reply = client.request({{"op", "status"}}, kProbeTimeout);
    auto took = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start);
    {
      std::lock_guard lock(mutex_);
      latencies_.push_back(took);
      if (!reply.is_object() || !reply.value("ok", false)) {
        ++failures_;
        last_failure_ = client.connected() ? reply.dump() : "cannot connect";
      }
    }
    auto next = start + interval_;
    while (!stopping_ && SteadyClock::now() < next) std::this_thread::sleep_for(Millis(5));
  }
}

StatusProbe::Figures StatusProbe::figures() const {
  std::lock_guard lock(mutex_);
  Figures f;
  f.requests = latencies_.size();
  f.failures = failures_;
  f.last_failure = last_failure_;
  if (latencies_.empty()) return f;
  auto sorted = latencies_;
  std::sort(sorted.begin(), sorted.end());
  auto at = [&](double q) {
    auto i = static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
    return std::chrono::duration_cast<Millis>(sorted[i]);
  };
  f.p50 = at(0.50);
  f.p99 = at(0.99);
  f.max = std::chrono::duration_cast<Millis>(sorted.back());
  return f;
}

namespace {

// The number after `key` on the first line of `path` that starts with it ("VmRSS:  1234 kB").
std::optional<std::int64_t> kib_field(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) != 0) continue;
    std::istringstream fields(line.substr(key.size()));
    std::int64_t value = 0;
    if (fields >> value) return value;
  }
  return std::nullopt;
}

}  // namespace

std::optional<ProcessMemory> process_memory(pid_t pid) {
  const std::string proc = "/proc/" + std::to_string(pid);
  auto rss = kib_field(proc + "/status", "VmRSS:");
  auto dirty = kib_field(proc + "/smaps_rollup", "Private_Dirty:");
  if (!rss || !dirty) return std::nullopt;
  return ProcessMemory{*rss, *dirty};
}

int open_descriptors(pid_t pid) {
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec);
  if (ec) return -1;
  int n = 0;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) return -1;
    ++n;
  }
  return n;
}

bool raise_descriptor_limit(std::uint64_t wanted, std::string& error) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) {
    error = std::string("getrlimit: ") + std::strerror(errno);
    return false;
  }
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur >= wanted) return true;
  if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < wanted) lim.rlim_max = wanted;
  lim.rlim_cur = wanted;
  if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) {
    error = "cannot raise RLIMIT_NOFILE to " + std::to_string(wanted) + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace dollhouse::testing
