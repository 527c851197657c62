// One app connection over the local transport: reads NDJSON requests, hands each complete line
// to its owner, writes replies in order of completion.
//
// Runs entirely on the daemon's I/O thread (a single-threaded io_context, so no strand is
// needed). Memory per connection is bounded: one read chunk, one partial line (the framer's
// limit), and at most kMaxPendingReplyBytes of replies. When a client stops reading its
// replies, has too many requests waiting for storage, or the storage thread is behind, the
// session stops reading from that client until the condition clears (backpressure), so one
// slow client never stalls the others or grows the daemon.
#pragma once

#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "daemon/connection.hpp"
#include "daemon/settings.hpp"
#include "ipc/framing.hpp"
#include "ipc/local_transport.hpp"

namespace dollhouse::daemon {

class Session;

// What a session needs from whoever accepted it (the Listener).
class SessionOwner {
 public:
  virtual ~SessionOwner() = default;
  // One complete line from the client.
  virtual void on_frame(const std::shared_ptr<Session>& session, const ipc::Frame& frame) = 0;
  // The session closed; the owner forgets it.
  virtual void on_closed(std::uint64_t session_id) = 0;
  // True while the storage thread is too far behind to take more requests.
  virtual bool storage_behind() const = 0;
};

// How long a connection owed nothing may stay silent (settings.hpp explains the two).
struct IdleTimeouts {
  std::chrono::milliseconds before_hello = kHelloTimeout;
  std::chrono::milliseconds after_hello = kIdleTimeout;
};

class Session final : public Connection, public std::enable_shared_from_this<Session> {
 public:
  using Socket = ipc::LocalStream;

  Session(SessionOwner& owner, Socket socket, std::uint64_t id, IdleTimeouts timeouts);
  void start();
  void close();
  // At shutdown: handles the complete requests already received, whatever the backpressure
  // (the storage thread commits everything before the daemon exits), then closes.
  void drain_and_close();

  void begin_storage_request() override { ++in_flight_; }
  void end_storage_request() override;

  std::uint64_t id() const { return id_; }
  // When the client last sent a byte or read a reply.
  std::chrono::steady_clock::time_point last_active() const { return last_active_; }
  // Nothing is owed to the client: no request in flight, no reply waiting to be written.
  bool owed_nothing() const { return in_flight_ == 0 && write_queue_.empty() && !writing_; }

 protected:
  void send(std::string line) override;

 private:
  void do_read();
  void on_read(const boost::system::error_code& ec, std::size_t n);
  // Handles buffered frames until none is left or backpressure applies; then reads again.
  void process();
  bool must_wait() const;
  // Closes once the client has closed its side and nothing is owed to it any more.
  void close_if_finished();
  void do_write();
  void on_write(const boost::system::error_code& ec, std::size_t n);
  // (Re)arms the idle timer from the latest activity.
  void arm_idle_timer();

  SessionOwner& owner_;
  Socket socket_;
  std::uint64_t id_;
  ipc::LineFramer framer_;
  std::array<char, kReadChunkBytes> read_buf_{};
  bool reading_ = false;
  bool closed_ = false;
  bool peer_done_ = false;  // the client closed its side; replies still owed are sent first
  std::deque<std::string> write_queue_;
  std::size_t write_queue_bytes_ = 0;
  bool writing_ = false;
  std::size_t in_flight_ = 0;
  boost::asio::steady_timer retry_timer_;
  bool retry_armed_ = false;
  IdleTimeouts timeouts_;
  boost::asio::steady_timer idle_timer_;
  std::chrono::steady_clock::time_point last_active_ = std::chrono::steady_clock::now();
};

}  // namespace dollhouse::daemon
