#include "tests/fault/server_abuse_support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/integration/server_harness.hpp"
#include "tests/unit/server/server_samples.hpp"

namespace dollhouse::testing {

namespace {

using SteadyClock = std::chrono::steady_clock;

// A /proc/<pid>/status field in kB ("VmRSS:    1234 kB"), in bytes.
std::size_t status_field_bytes(int pid, std::string_view field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0 && line.size() > field.size() && line[field.size()] == ':') {
      return static_cast<std::size_t>(std::strtoull(line.c_str() + field.size() + 1, nullptr, 10)) *
             1024;
    }
  }
  return 0;
}

int remaining_ms(SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  return static_cast<int>(std::max<std::int64_t>(0, left.count()));
}

}  // namespace

std::size_t process_rss_bytes(int pid) {
  return status_field_bytes(pid, "VmRSS");
}

std::size_t process_peak_rss_bytes(int pid) {
  return status_field_bytes(pid, "VmHWM");
}

int process_fd_count(int pid) {
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec);
  if (ec) return -1;
  int n = 0;
  for (const auto& entry : it) {
    (void)entry;
    ++n;
  }
  return n;
}

bool raise_fd_limit(rlim_t wanted) {
  rlimit current{};
  if (::getrlimit(RLIMIT_NOFILE, &current) != 0) return false;
  if (current.rlim_cur >= wanted) return true;
  rlimit raised{wanted, std::max(wanted, current.rlim_max)};
  return ::setrlimit(RLIMIT_NOFILE, &raised) == 0;
}

int http_status(std::string_view raw) {
  if (raw.rfind("HTTP/1.", 0) != 0 || raw.size() < 12) return 0;
  int status = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (raw[i] < '0' || raw[i] > '9') return 0;
    status = status * 10 + (raw[i] - '0');
  }
  return status;
}

std::string format_statuses(const std::map<int, int>& statuses) {
  std::ostringstream out;
  bool first = true;
  for (const auto& [status, count] : statuses) {
    out << (first ? "" : " ") << (status == 0 ? std::string("none") : std::to_string(status)) << ":"
        << count;
    first = false;
  }
  return first ? "none" : out.str();
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

RawConnection::RawConnection(int port, int receive_buffer) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  if (receive_buffer > 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::send_all(std::string_view bytes, std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) return false;
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) return false;
    if ((p.revents & (POLLERR | POLLHUP)) != 0) return false;
  }
  return true;
}

bool RawConnection::read_available(std::string& received) {
  char buf[16384];
  while (true) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      received.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
}

bool RawConnection::read_until_closed(std::string& received, std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  while (read_available(received)) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) return false;
  }
  return true;
}

ServerWatch::ServerWatch(int server_pid, int port) : pid_(server_pid), port_(port) {
  thread_ = std::thread([this] { run(); });
}

ServerWatch::~ServerWatch() {
  stop();
}

void ServerWatch::run() {
  using namespace server::samples;
  // An installation and batch ids far from any the tests use.
  constexpr long kProbeInstall = 700000;
  HttpClient client("127.0.0.1", port_);
  const std::string install = uuid(kProbeInstall);
  long batch_number = kProbeInstall;
  auto record = [this](double ms, bool ok, const std::string& what) {
    std::lock_guard lock(mutex_);
    report_.probes++;
    latencies_ms_.push_back(ms);
    if (!ok) {
      if (report_.failures++ == 0) report_.first_failure = what;
    }
  };
  while (!stopping_.load()) {
    auto began = SteadyClock::now();
    HttpReply posted =
        client.post_batch(batch(install, uuid(++batch_number), {stamp(error_event(), install)}));
    auto ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - began).count();
    const bool post_ok = posted.status == 202 && posted.json().value("accepted", 0) == 1;
    record(ms, post_ok,
           "batch POST: " + std::to_string(posted.status) + " " + posted.body + posted.error);

    began = SteadyClock::now();
    HttpReply stats = client.get("/api/v1/stats/errors");
    ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - began).count();
    record(ms, stats.status == 200,
           "stats GET: " + std::to_string(stats.status) + " " + stats.body + stats.error);

    const auto next = began + kProbeInterval;
    while (!stopping_.load() && SteadyClock::now() < next) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
}

bool ServerWatch::ready(std::chrono::milliseconds timeout) const {
  const auto deadline = SteadyClock::now() + timeout;
  while (SteadyClock::now() < deadline) {
    {
      std::lock_guard lock(mutex_);
      if (report_.probes >= 2) return report_.failures == 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

ServerWatch::Report ServerWatch::report() const {
  std::lock_guard lock(mutex_);
  Report r = report_;
  r.p50_ms = percentile(latencies_ms_, 50);
  r.max_ms =
      latencies_ms_.empty() ? 0 : *std::max_element(latencies_ms_.begin(), latencies_ms_.end());
  r.peak_rss = process_peak_rss_bytes(pid_);
  return r;
}

ServerWatch::Report ServerWatch::stop() {
  stopping_.store(true);
  if (thread_.joinable()) thread_.join();
  return report();
}

}  // namespace dollhouse::testing
