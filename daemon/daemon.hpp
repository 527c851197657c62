// The daemon's core on its I/O thread: accepts connections, checks peers, dispatches
// requests to the command table, owns the consent state, and feeds the storage thread.
//
// Threading: every member function runs on the single I/O thread except storage_backlog(),
// which may be called from anywhere. Storage results come back through asio::post.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/environment.hpp"
#include "daemon/config.hpp"
#include "daemon/platform_info.hpp"
#include "daemon/session.hpp"
#include "daemon/storage/storage_worker.hpp"
#include "daemon/upload/uploader.hpp"
#include "ipc/local_transport.hpp"
#include "ipc/protocol.hpp"
#include "privacy/privacy.hpp"

namespace dollhouse::daemon {

struct DaemonOptions {
  std::string data_root;
  std::string socket_path;
  std::string endpoint;  // ingestion URL in force
  KillSwitch kill_switch;
  PlatformInfo platform;
  const Clock* clock = &SystemClock::instance();
  RandomSource* random = nullptr;
};

class Daemon {
 public:
  using Acceptor = ipc::LocalListener;

  Daemon(boost::asio::io_context& io, DaemonOptions options, TelemetryConfig config,
         StorageWorker& storage, privacy::Scrubber scrubber);

  // The uploader, when there is one (it outlives the daemon object's use of it).
  void set_uploader(Uploader* uploader) { uploader_ = uploader; }
  Uploader* uploader() { return uploader_; }

  // Starts accepting on an already listening socket and the maintenance timer.
  void start(Acceptor acceptor);
  // Stops accepting and closes every connection. Requests already read were dispatched.
  void shutdown();

  // Called by sessions.
  void handle_frame(const std::shared_ptr<Session>& session, const ipc::Frame& frame);
  void forget_session(std::uint64_t id) { sessions_.erase(id); }
  std::size_t storage_backlog() const { return storage_.backlog(); }

  // Used by commands.
  const DaemonOptions& options() const { return options_; }
  boost::asio::io_context& io() { return io_; }
  const TelemetryConfig& config() const { return config_; }
  Status replace_config(TelemetryConfig config);
  SystemTime now() const { return options_.clock->now(); }
  RandomSource& random() { return *options_.random; }
  const privacy::Scrubber& scrubber() const { return scrubber_; }
  // "" when collection is on (whatever the categories), else why not.
  std::string collection_blocked_by() const;
  // "" when an event of this category may be stored now, else the drop reason.
  std::string drop_reason_for(const std::string& category) const;
  // The consent part of hello and status replies.
  nlohmann::json consent_summary() const;
  // Adds the daemon's fields to an event body: timestamp, installId, version, platform.
  nlohmann::json stamp(nlohmann::json body, const AppInfo& app) const;
  // Counts a reason under its name, persistently.
  void count(std::string name, std::int64_t n = 1);
  // A track or usage message that was not kept: counted for the connection and under
  // dropped.<reason>.
  void count_drop(Session& session, const std::string& reason);
  // For track and usage: true when the connection said hello; otherwise counts the drop and
  // answers hello_required (when the request has an id).
  bool require_hello(Session& session, const ipc::Request& req);
  // Fields of `status` that the I/O thread knows (the storage thread adds the queue).
  nlohmann::json status_base() const;

  // Runs `query` on the storage thread; replies to `id` on `session` with its result once the
  // transaction is committed.
  using Query = std::function<Result<nlohmann::json>(StorageContext&)>;
  void query(const std::shared_ptr<Session>& session, const nlohmann::json& id, Query query);
  // Posts a task with no reply.
  void post_storage(StorageWorker::Task task) { storage_.post(std::move(task)); }

  // Retention and the weekly rollup; runs at start and every kMaintenanceInterval.
  void run_maintenance();
  // Tells the uploader that n more events are waiting.
  void note_events_stored(std::int64_t n) {
    if (uploader_ != nullptr && n > 0) uploader_->on_events_accepted(n);
  }
  // Replaces the installId (after a remote deletion) and saves the config.
  Status rotate_install_id();
  // Puts an earlier installId back (the deletion request for it could not be stored).
  Status restore_install_id(const std::string& install_id);

 private:
  void do_accept();
  void schedule_maintenance();

  boost::asio::io_context& io_;
  DaemonOptions options_;
  TelemetryConfig config_;
  StorageWorker& storage_;
  Uploader* uploader_ = nullptr;
  privacy::Scrubber scrubber_;
  std::string config_path_;
  std::optional<Acceptor> acceptor_;
  boost::asio::steady_timer maintenance_timer_;
  boost::asio::steady_timer accept_retry_timer_;
  std::map<std::uint64_t, std::weak_ptr<Session>> sessions_;
  std::uint64_t next_session_id_ = 1;
  std::int64_t connections_total_ = 0;
  std::string started_at_;
  bool stopping_ = false;
};

}  // namespace dollhouse::daemon
