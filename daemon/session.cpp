#include "daemon/session.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "ipc/protocol.hpp"

namespace dollhouse::daemon {

namespace asio = boost::asio;

Session::Session(SessionOwner& owner, Socket socket, std::uint64_t id, IdleTimeouts timeouts)
    : owner_(owner),
      socket_(std::move(socket)),
      id_(id),
      framer_(ipc::kMaxLineBytes),
      retry_timer_(socket_.get_executor()),
      timeouts_(timeouts),
      idle_timer_(socket_.get_executor()) {}

void Session::start() {
  arm_idle_timer();
  do_read();
}

void Session::arm_idle_timer() {
  if (closed_) return;
  auto limit = app.known ? timeouts_.after_hello : timeouts_.before_hello;
  idle_timer_.expires_at(last_active_ + limit);
  idle_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->closed_) return;
    auto now = std::chrono::steady_clock::now();
    auto allowed = self->app.known ? self->timeouts_.after_hello : self->timeouts_.before_hello;
    if (self->owed_nothing() && now - self->last_active_ >= allowed) {
      self->close();
      return;
    }
    // Active since, or still owed a reply: look again a full period after the last activity
    // (or after now, when the activity is older than that).
    if (now - self->last_active_ >= allowed) self->last_active_ = now;
    self->arm_idle_timer();
  });
}

void Session::close() {
  if (closed_) return;
  closed_ = true;
  retry_timer_.cancel();
  idle_timer_.cancel();
  ipc::close_stream(socket_);
  owner_.on_closed(id_);
}

void Session::do_read() {
  if (closed_ || reading_) return;
  reading_ = true;
  socket_.async_read_some(asio::buffer(read_buf_),
                          [self = shared_from_this()](const boost::system::error_code& ec,
                                                      std::size_t n) { self->on_read(ec, n); });
}

void Session::drain_and_close() {
  while (!closed_) {
    auto frame = framer_.next();
    if (!frame) break;
    owner_.on_frame(shared_from_this(), *frame);
  }
  close();
}

void Session::close_if_finished() {
  if (peer_done_ && in_flight_ == 0 && write_queue_.empty() && !writing_) close();
}

void Session::on_read(const boost::system::error_code& ec, std::size_t n) {
  reading_ = false;
  if (closed_) return;
  if (ec == asio::error::eof) {
    // The client closed its side after its last request: answer what is still owed, then close.
    peer_done_ = true;
    process();
    close_if_finished();
    return;
  }
  if (ec) {
    close();  // a reset: nobody is there to read replies
    return;
  }
  last_active_ = std::chrono::steady_clock::now();
  framer_.feed(std::string_view(read_buf_.data(), n));
  process();
}

bool Session::must_wait() const {
  return write_queue_bytes_ > kMaxPendingReplyBytes || in_flight_ >= kMaxInFlightPerConnection ||
         owner_.storage_behind();
}

void Session::process() {
  while (!closed_) {
    if (must_wait()) {
      // Resumed by on_write / end_storage_request, or by this timer when storage is behind.
      if (!retry_armed_ && owner_.storage_behind()) {
        retry_armed_ = true;
        retry_timer_.expires_after(kBackpressureRetry);
        retry_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
          self->retry_armed_ = false;
          if (!ec) self->process();
        });
      }
      return;
    }
    auto frame = framer_.next();
    if (!frame) break;
    owner_.on_frame(shared_from_this(), *frame);
  }
  if (!peer_done_) do_read();
}

void Session::send(std::string line) {
  if (closed_) return;
  write_queue_bytes_ += line.size();
  write_queue_.push_back(std::move(line));
  do_write();
}

void Session::end_storage_request() {
  if (in_flight_ > 0) --in_flight_;
  if (!reading_) process();
  close_if_finished();
}

void Session::do_write() {
  if (writing_ || write_queue_.empty() || closed_) return;
  writing_ = true;
  asio::async_write(socket_, asio::buffer(write_queue_.front()),
                    [self = shared_from_this()](const boost::system::error_code& ec,
                                                std::size_t n) { self->on_write(ec, n); });
}

void Session::on_write(const boost::system::error_code& ec, std::size_t) {
  writing_ = false;
  if (closed_) return;
  if (ec) {
    close();
    return;
  }
  last_active_ = std::chrono::steady_clock::now();
  write_queue_bytes_ -= write_queue_.front().size();
  write_queue_.pop_front();
  do_write();
  if (!reading_) process();
  close_if_finished();
}

}  // namespace dollhouse::daemon
