#include "daemon/listener.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/write.hpp>

#include "daemon/counters.hpp"
#include "daemon/settings.hpp"
#include "ipc/protocol.hpp"

namespace dollhouse::daemon {

namespace asio = boost::asio;

Listener::Listener(asio::io_context& io, StorageChannel& storage, Dispatcher& dispatcher,
                   ConnectionCounts& counts, IdleTimeouts timeouts)
    : storage_(storage),
      dispatcher_(dispatcher),
      accept_retry_timer_(io),
      counts_(counts),
      timeouts_(timeouts) {}

void Listener::start(ipc::LocalListener acceptor) {
  acceptor_.emplace(std::move(acceptor));
  do_accept();
}

void Listener::shutdown() {
  stopping_ = true;
  if (acceptor_) acceptor_->close();
  accept_retry_timer_.cancel();
  auto sessions = sessions_;
  for (auto& [id, weak] : sessions) {
    if (auto s = weak.lock()) s->drain_and_close();
  }
  sessions_.clear();
  counts_.open = 0;
}

void Listener::on_frame(const std::shared_ptr<Session>& session, const ipc::Frame& frame) {
  dispatcher_.dispatch(session, frame);
}

void Listener::on_closed(std::uint64_t session_id) {
  sessions_.erase(session_id);
  counts_.open = sessions_.size();
}

bool Listener::storage_behind() const {
  return storage_.backlog() >= kMaxStorageBacklog;
}

void Listener::do_accept() {
  if (stopping_) return;
  acceptor_->async_accept([this](const boost::system::error_code& ec, Session::Socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping_) return;
      if (ipc::client_left_before_accept(ec)) {
        do_accept();  // that client's problem only: the next one is accepted at once
        return;
      }
      // Out of descriptors, or a pipe instance that cannot be made: try again shortly rather
      // than spin on an error that will not clear at once.
      spdlog::warn("accept failed: {}; retrying in {} ms", ec.message(), kAcceptRetryDelay.count());
      accept_retry_timer_.expires_after(kAcceptRetryDelay);
      accept_retry_timer_.async_wait([this](const boost::system::error_code& wait_ec) {
        if (!wait_ec) do_accept();
      });
      return;
    }
    if (!ipc::peer_is_same_user(socket).value_or(false)) {
      // Another user's process (or one the system cannot tell): close without a word.
      storage_.count(counter::kRejectedPeer);
      if (auto left_out = peer_log_.occurred(std::chrono::steady_clock::now())) {
        spdlog::warn("closed a connection from another user ({} more not logged before this)",
                     *left_out);
      }
      ipc::close_stream(socket);
    } else if (sessions_.size() >= kMaxConnections && !make_room()) {
      refuse_over_limit(std::move(socket));
    } else {
      ++counts_.total;
      auto session =
          std::make_shared<Session>(*this, std::move(socket), next_session_id_++, timeouts_);
      sessions_[session->id()] = session;
      counts_.open = sessions_.size();
      session->start();
    }
    do_accept();
  });
}

bool Listener::make_room() {
  std::shared_ptr<Session> oldest;
  for (const auto& [id, weak] : sessions_) {
    auto s = weak.lock();
    if (!s || !s->owed_nothing()) continue;
    if (!oldest || s->last_active() < oldest->last_active()) oldest = s;
  }
  if (!oldest) return false;
  storage_.count(counter::kClosedForRoom);
  oldest->close();
  return true;
}

void Listener::refuse_over_limit(Session::Socket socket) {
  storage_.count(counter::kRejectedLimit);
  if (auto left_out = refused_log_.occurred(std::chrono::steady_clock::now())) {
    spdlog::warn(
        "connection limit of {} reached and every connection busy; refusing a client "
        "({} more refused without a log line before this)",
        kMaxConnections, *left_out);
  }
  std::string line =
      ipc::error_reply(nullptr, ipc::ErrorCode::kOverloaded,
                       "too many connections to the telemetry daemon; try again later");
  // Best effort, never waiting on the client: one write, then close.
  auto refused = std::make_shared<Session::Socket>(std::move(socket));
  auto text = std::make_shared<std::string>(std::move(line));
  asio::async_write(*refused, asio::buffer(*text),
                    [refused, text](const boost::system::error_code&, std::size_t) {
                      ipc::close_stream(*refused);
                    });
}

}  // namespace dollhouse::daemon
