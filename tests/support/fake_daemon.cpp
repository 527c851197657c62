#include "tests/support/fake_daemon.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "ipc/framing.hpp"
#include "ipc/protocol.hpp"

namespace dollhouse::testing {
namespace {

using nlohmann::json;

struct Connection {
  int fd = -1;
  ipc::LineFramer framer{ipc::kMaxLineBytes};
  bool reading = true;
  std::size_t messages = 0;  // track and usage lines, for the sync reply
};

void send_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::send(fd, text.data() + done, text.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the client went away; nothing to do
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::string op_of(const std::string& line) {
  json body = json::parse(line, nullptr, false);
  if (!body.is_object() || !body.contains("op") || !body["op"].is_string()) return {};
  return body["op"].get<std::string>();
}

FakeDaemon::FakeDaemon(std::string socket_path, FakeDaemonScript script)
    : socket_path_(std::move(socket_path)), script_(script) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path_.size() >= sizeof addr.sun_path) throw std::runtime_error("path too long");
  std::memcpy(addr.sun_path, socket_path_.c_str(), socket_path_.size() + 1);
  ::unlink(socket_path_.c_str());
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0) {
    std::string why = std::strerror(errno);
    if (listen_fd_ >= 0) ::close(listen_fd_);
    throw std::runtime_error("fake daemon cannot listen at " + socket_path_ + ": " + why);
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("pipe2 failed");
  }
  wake_read_fd_ = pipe_fds[0];
  wake_write_fd_ = pipe_fds[1];
  listener_ = std::thread([this] { serve(); });
}

FakeDaemon::~FakeDaemon() {
  stop();
}

void FakeDaemon::stop() {
  if (!listener_.joinable()) return;
  char byte = 1;
  while (::write(wake_write_fd_, &byte, 1) < 0 && errno == EINTR) {
  }
  listener_.join();
  ::close(wake_read_fd_);
  ::close(wake_write_fd_);
  ::close(listen_fd_);
  ::unlink(socket_path_.c_str());
}

void FakeDaemon::serve() {
  std::vector<Connection> connections;
  while (true) {
    std::vector<pollfd> fds;
    fds.push_back({wake_read_fd_, POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    std::vector<std::size_t> polled;  // index into connections for fds[2 + i]
    for (std::size_t i = 0; i < connections.size(); ++i) {
      if (!connections[i].reading) continue;
      fds.push_back({connections[i].fd, POLLIN, 0});
      polled.push_back(i);
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents != 0) break;
    if (fds[1].revents & POLLIN) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        connections.push_back(Connection{});
        connections.back().fd = fd;
        std::lock_guard lock(mu_);
        ++connections_;
        changed_.notify_all();
      }
    }
    for (std::size_t k = 0; k < polled.size(); ++k) {
      if (fds[2 + k].revents == 0) continue;
      Connection& conn = connections[polled[k]];
      char buf[16384];
      ssize_t n = ::recv(conn.fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(conn.fd);
        conn.fd = -1;
        conn.reading = false;
        continue;
      }
      conn.framer.feed(std::string_view(buf, static_cast<std::size_t>(n)));
      while (auto frame = conn.framer.next()) {
        std::string op = op_of(frame->line);
        json body = json::parse(frame->line, nullptr, false);
        json id = body.is_object() && body.contains("id") ? body["id"] : json();
        if (op == "track" || op == "usage") ++conn.messages;
        {
          std::lock_guard lock(mu_);
          lines_.push_back(frame->line);
          changed_.notify_all();
        }
        if (op == "hello" && script_.answer_hello) {
          send_all(conn.fd, ipc::ok_reply(id, {{"protocol", 1},
                                               {"daemonVersion", "fake"},
                                               {"consent", {{"given", true}}}}));
          if (!script_.read_after_hello) {
            conn.reading = false;
            break;
          }
        } else if (op == "sync" && script_.answer_sync) {
          send_all(conn.fd, ipc::ok_reply(id, {{"accepted", conn.messages}, {"dropped", 0}}));
        }
      }
    }
    // Connections closed by the peer are forgotten; stuck ones stay open until stop().
    std::erase_if(connections, [](const Connection& c) { return c.fd < 0; });
  }
  for (Connection& conn : connections) {
    if (conn.fd >= 0) ::close(conn.fd);
  }
}

std::vector<std::string> FakeDaemon::lines() const {
  std::lock_guard lock(mu_);
  return lines_;
}

std::vector<std::string> FakeDaemon::lines_with_op(const std::string& op) const {
  std::vector<std::string> out;
  for (const std::string& line : lines()) {
    if (op_of(line) == op) out.push_back(line);
  }
  return out;
}

std::size_t FakeDaemon::connections_accepted() const {
  std::lock_guard lock(mu_);
  return connections_;
}

bool FakeDaemon::wait_until(const std::function<bool(const std::vector<std::string>&)>& ready,
                            std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return ready(lines_); });
}

bool FakeDaemon::wait_for_op_count(const std::string& op, std::size_t count,
                                   std::chrono::milliseconds timeout) const {
  return wait_until(
      [&](const std::vector<std::string>& lines) {
        std::size_t n = 0;
        for (const std::string& line : lines) n += op_of(line) == op ? 1 : 0;
        return n >= count;
      },
      timeout);
}

}  // namespace dollhouse::testing
