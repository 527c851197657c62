#include "tests/support/fake_daemon.hpp"

#include <array>
#include <cstdio>
#include <deque>
#include <list>
#include <optional>
#include <stdexcept>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

#include "ipc/framing.hpp"
#include "ipc/local_transport.hpp"
#include "ipc/protocol.hpp"

namespace dollhouse::testing {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

struct Connection {
  explicit Connection(ipc::LocalStream s) : stream(std::move(s)) {}
  ipc::LocalStream stream;
  ipc::LineFramer framer{ipc::kMaxLineBytes};
  std::array<char, 16384> buffer{};
  std::deque<std::string> outbox;  // replies not yet written, in order
  bool writing = false;
  bool open = true;
  std::size_t messages = 0;  // track and usage lines, for the sync reply
};

}  // namespace

// Lives on the io_context thread; only the constructor and the destructor run elsewhere.
struct FakeDaemon::Server {
  explicit Server(FakeDaemon& owner) : daemon(owner) {}

  void accept() {
    listener->async_accept([this](const boost::system::error_code& ec, ipc::LocalStream stream) {
      if (stopped || ec == asio::error::operation_aborted) return;  // closed by stop()
      if (ec) return accept();  // a client that left before it was accepted
      connections.push_back(std::make_shared<Connection>(std::move(stream)));
      {
        std::lock_guard lock(daemon.mu_);
        ++daemon.connections_;
        daemon.changed_.notify_all();
      }
      read(connections.back());
      accept();
    });
  }

  void read(const std::shared_ptr<Connection>& conn) {
    conn->stream.async_read_some(asio::buffer(conn->buffer),
                                 [this, conn](const boost::system::error_code& ec, std::size_t n) {
                                   if (ec) {
                                     close(conn);
                                     return;
                                   }
                                   conn->framer.feed(std::string_view(conn->buffer.data(), n));
                                   if (handle_lines(conn)) read(conn);
                                 });
  }

  // False once the script says to stop reading this connection.
  bool handle_lines(const std::shared_ptr<Connection>& conn) {
    const FakeDaemonScript& script = daemon.script_;
    while (auto frame = conn->framer.next()) {
      std::string op = op_of(frame->line);
      json body = json::parse(frame->line, nullptr, false);
      json id = body.is_object() && body.contains("id") ? body["id"] : json();
      if (op == "track" || op == "usage") ++conn->messages;
      {
        std::lock_guard lock(daemon.mu_);
        daemon.lines_.push_back(frame->line);
        daemon.changed_.notify_all();
      }
      if (op == "hello" && script.answer_hello) {
        send(conn,
             ipc::ok_reply(
                 id, {{"protocol", 1}, {"daemonVersion", "fake"}, {"consent", {{"given", true}}}}));
        if (!script.read_after_hello) return false;
      } else if (op == "sync" && script.answer_sync) {
        send(conn, ipc::ok_reply(id, {{"accepted", conn->messages}, {"dropped", 0}}));
      }
    }
    return true;
  }

  void send(const std::shared_ptr<Connection>& conn, std::string line) {
    conn->outbox.push_back(std::move(line));
    write(conn);
  }

  void write(const std::shared_ptr<Connection>& conn) {
    if (conn->writing || conn->outbox.empty() || !conn->open) return;
    conn->writing = true;
    asio::async_write(conn->stream, asio::buffer(conn->outbox.front()),
                      [this, conn](const boost::system::error_code& ec, std::size_t) {
                        conn->writing = false;
                        if (ec) return close(conn);  // the client went away
                        conn->outbox.pop_front();
                        write(conn);
                      });
  }

  void close(const std::shared_ptr<Connection>& conn) {
    if (!conn->open) return;
    conn->open = false;
    ipc::close_stream(conn->stream);
    connections.remove(conn);
  }

  void stop() {
    stopped = true;
    listener->close();
    for (auto& conn : std::list<std::shared_ptr<Connection>>(connections)) close(conn);
  }

  FakeDaemon& daemon;
  asio::io_context io{1};
  std::optional<ipc::LocalListener> listener;
  bool stopped = false;
  std::list<std::shared_ptr<Connection>> connections;
};

std::string op_of(const std::string& line) {
  json body = json::parse(line, nullptr, false);
  if (!body.is_object() || !body.contains("op") || !body["op"].is_string()) return {};
  return body["op"].get<std::string>();
}

FakeDaemon::FakeDaemon(std::string socket_path, FakeDaemonScript script)
    : socket_path_(std::move(socket_path)), script_(script) {
  server_ = std::make_unique<Server>(*this);
  auto listener = ipc::LocalListener::open(server_->io.get_executor(), socket_path_);
  if (!listener) {
    throw std::runtime_error("fake daemon cannot listen at " + socket_path_ + ": " +
                             listener.status().message());
  }
  server_->listener.emplace(std::move(*listener));
  server_->accept();
  thread_ = std::thread([this] { server_->io.run(); });
}

FakeDaemon::~FakeDaemon() {
  stop();
}

void FakeDaemon::stop() {
  if (!thread_.joinable()) return;
  asio::post(server_->io, [this] { server_->stop(); });
  // Connections the script left unread keep nothing pending but their own reads, which the
  // close above cancels; run() returns once every handler has finished.
  thread_.join();
#ifndef _WIN32
  std::remove(socket_path_.c_str());
#endif
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
