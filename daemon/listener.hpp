// The daemon's front door: accepts connections on the local transport, lets in only the user's
// own processes, keeps the connection limit, and owns the sessions it starts, whose lines it
// hands to the dispatcher. At the limit, a new client takes the place of the least recently
// active connection that is owed nothing (idle connections never lock out `status`); only
// when every connection is busy is the new one refused with `overloaded`.
//
// I/O thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>

#include "daemon/dispatcher.hpp"
#include "daemon/log_throttle.hpp"
#include "daemon/session.hpp"
#include "daemon/settings.hpp"
#include "daemon/status_report.hpp"
#include "daemon/storage_channel.hpp"
#include "ipc/local_transport.hpp"

namespace dollhouse::daemon {

class Listener final : public SessionOwner {
 public:
  // `counts` is kept up to date for status.
  Listener(boost::asio::io_context& io, StorageChannel& storage, Dispatcher& dispatcher,
           ConnectionCounts& counts, IdleTimeouts timeouts = {});

  // Starts accepting on an already listening socket or pipe.
  void start(ipc::LocalListener acceptor);
  // Stops accepting and closes every connection. Requests already read are dispatched first.
  void shutdown();

  void on_frame(const std::shared_ptr<Session>& session, const ipc::Frame& frame) override;
  void on_closed(std::uint64_t session_id) override;
  bool storage_behind() const override;

 private:
  void do_accept();
  void refuse_over_limit(Session::Socket socket);
  // Closes the least recently active connection owed nothing; false when every one is busy.
  bool make_room();

  StorageChannel& storage_;
  Dispatcher& dispatcher_;
  std::optional<ipc::LocalListener> acceptor_;
  boost::asio::steady_timer accept_retry_timer_;
  std::map<std::uint64_t, std::weak_ptr<Session>> sessions_;
  std::uint64_t next_session_id_ = 1;
  ConnectionCounts& counts_;
  IdleTimeouts timeouts_;
  // Refused and rejected connections come in floods; the log gets a line per interval.
  LogThrottle<std::chrono::steady_clock::time_point> refused_log_{kFailureLogInterval};
  LogThrottle<std::chrono::steady_clock::time_point> peer_log_{kFailureLogInterval};
  bool stopping_ = false;
};

}  // namespace dollhouse::daemon
