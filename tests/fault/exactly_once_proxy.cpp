#include "tests/fault/exactly_once_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>

#include <nlohmann/json.hpp>

namespace dollhouse::testing {

namespace {

using SteadyClock = std::chrono::steady_clock;

// Longest the relay waits for one exchange, both sides together: far beyond the daemon's own
// request timeout, so the daemon always gives up first and the relay never hangs a test.
constexpr std::chrono::seconds kRelayExchangeTimeout(60);
// Largest request or answer relayed: the daemon's batches are at most 512 KiB of JSON and the
// server's answers a few hundred bytes, so anything larger is a broken peer.
constexpr std::size_t kMaxRelayedMessageBytes = 4 << 20;
// How often the accept loop looks at the stop flag while no connection arrives.
constexpr int kAcceptPollMs = 50;
// Bytes read per read() call.
constexpr std::size_t kReadChunkBytes = 16384;

int ms_until(SteadyClock::time_point deadline) {
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(left);
}

bool wait_fd(int fd, short events, SteadyClock::time_point deadline) {
  while (true) {
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, ms_until(deadline));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

bool write_all(int fd, const std::string& bytes, SteadyClock::time_point deadline) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    if (!wait_fd(fd, POLLOUT, deadline)) return false;
    ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The value of header `name` (lower case) in a message's header block, or nullopt.
std::optional<std::string> header_value(std::string_view head, std::string_view name) {
  std::size_t line_start = head.find("\r\n");
  while (line_start != std::string_view::npos) {
    line_start += 2;
    std::size_t line_end = head.find("\r\n", line_start);
    if (line_end == std::string_view::npos || line_end == line_start) break;
    std::string_view line = head.substr(line_start, line_end - line_start);
    std::size_t colon = line.find(':');
    if (colon != std::string_view::npos && lower(std::string(line.substr(0, colon))) == name) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
      }
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
        value.remove_suffix(1);
      }
      return std::string(value);
    }
    line_start = line_end;
  }
  return std::nullopt;
}

struct HttpMessage {
  std::string bytes;
  std::size_t header_end = 0;
  std::string_view head() const { return std::string_view(bytes).substr(0, header_end); }
  std::string_view body() const { return std::string_view(bytes).substr(header_end); }
};

// Reads one whole HTTP/1.1 message: headers, then Content-Length bytes of body; without
// Content-Length a request has no body and an answer runs until the peer closes.
std::optional<HttpMessage> read_message(int fd, bool is_request, SteadyClock::time_point deadline) {
  HttpMessage msg;
  std::optional<std::size_t> content_length;
  bool have_head = false;
  char buf[kReadChunkBytes];
  while (true) {
    if (have_head && content_length && msg.bytes.size() >= msg.header_end + *content_length) {
      msg.bytes.resize(msg.header_end + *content_length);
      return msg;
    }
    if (!wait_fd(fd, POLLIN, deadline)) return std::nullopt;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) {
      if (have_head && !content_length) return msg;
      return std::nullopt;
    }
    msg.bytes.append(buf, static_cast<std::size_t>(n));
    if (msg.bytes.size() > kMaxRelayedMessageBytes) return std::nullopt;
    if (!have_head) {
      std::size_t end = msg.bytes.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      have_head = true;
      msg.header_end = end + 4;
      if (auto v = header_value(msg.head(), "content-length")) {
        content_length = static_cast<std::size_t>(std::strtoull(v->c_str(), nullptr, 10));
      } else if (is_request) {
        content_length = 0;
      }
    }
  }
}

int connect_loopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

std::string_view to_string(KillPoint point) {
  switch (point) {
    case KillPoint::kNone:
      return "none";
    case KillPoint::kBeforeForwarding:
      return "before_forwarding";
    case KillPoint::kBeforeServerAnswer:
      return "before_server_answer";
    case KillPoint::kAfterServerAnswer:
      return "after_server_answer";
    case KillPoint::kAfterAnswerRelayed:
      return "after_answer_relayed";
  }
  return "unknown";
}

KillingProxy::KillingProxy(int upstream_port) : upstream_port_(upstream_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
    return;
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { accept_loop(); });
}

KillingProxy::~KillingProxy() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

std::string KillingProxy::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void KillingProxy::arm(KillPoint point, std::function<void()> kill,
                       std::chrono::microseconds delay_after_relay) {
  std::lock_guard lock(mutex_);
  armed_point_ = point;
  kill_ = std::move(kill);
  delay_after_relay_ = delay_after_relay;
}

bool KillingProxy::armed() const {
  std::lock_guard lock(mutex_);
  return armed_point_ != KillPoint::kNone;
}

std::vector<RelayedExchange> KillingProxy::exchanges() const {
  std::lock_guard lock(mutex_);
  return exchanges_;
}

bool KillingProxy::wait_exchanges(std::size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return exchanges_.size() >= count; });
}

void KillingProxy::record(RelayedExchange exchange) {
  std::lock_guard lock(mutex_);
  exchanges_.push_back(std::move(exchange));
  changed_.notify_all();
}

void KillingProxy::accept_loop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, kAcceptPollMs) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    relay(fd);
    ::close(fd);
  }
}

void KillingProxy::relay(int client_fd) {
  const auto deadline = SteadyClock::now() + kRelayExchangeTimeout;
  auto request = read_message(client_fd, /*is_request=*/true, deadline);
  if (!request) return;
  RelayedExchange exchange;
  exchange.method = request->bytes.substr(0, request->bytes.find(' '));
  exchange.batch_id = header_value(request->head(), "idempotency-key").value_or("");

  KillPoint point = KillPoint::kNone;
  std::function<void()> kill;
  std::chrono::microseconds delay{0};
  if (exchange.method == "POST") {
    std::lock_guard lock(mutex_);
    point = armed_point_;
    kill = kill_;
    delay = delay_after_relay_;
  }
  // Disarms and kills: the relay fires once per arm().
  auto fire = [&] {
    {
      std::lock_guard lock(mutex_);
      armed_point_ = KillPoint::kNone;
      kill_ = nullptr;
    }
    if (kill) kill();
    exchange.killed_at = point;
  };

  if (point == KillPoint::kBeforeForwarding) {
    fire();
    return record(std::move(exchange));
  }
  int upstream = connect_loopback(upstream_port_);
  if (upstream < 0) return record(std::move(exchange));
  bool sent = write_all(upstream, request->bytes, deadline);
  if (sent && point == KillPoint::kBeforeServerAnswer) fire();
  std::optional<HttpMessage> answer;
  if (sent) answer = read_message(upstream, /*is_request=*/false, deadline);
  ::close(upstream);
  if (answer && answer->bytes.size() > 12) {
    exchange.status = std::atoi(answer->bytes.c_str() + 9);  // "HTTP/1.1 202 Accepted"
    auto body = nlohmann::json::parse(answer->body(), nullptr, /*allow_exceptions=*/false);
    exchange.duplicate = body.is_object() && body.value("duplicate", false) == true;
  }
  if (point == KillPoint::kBeforeServerAnswer) return record(std::move(exchange));
  if (point == KillPoint::kAfterServerAnswer && exchange.status >= 200 && exchange.status < 300) {
    // The server has stored the batch and said so; the daemon never hears it.
    fire();
    return record(std::move(exchange));
  }
  if (answer) write_all(client_fd, answer->bytes, deadline);
  if (point == KillPoint::kAfterAnswerRelayed) {
    std::this_thread::sleep_for(delay);
    fire();
  }
  record(std::move(exchange));
}

}  // namespace dollhouse::testing
