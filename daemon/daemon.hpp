// The daemon's parts, put together: the consent state, the storage channel, the command
// context, the dispatcher, the listener and maintenance. Each part has one job and its own
// header; this class only builds them, wires them and starts and stops them in order.
// docs/architecture.md draws the whole.
//
// I/O thread only.
#pragma once

#include <boost/asio/io_context.hpp>

#include <functional>
#include <string>

#include "common/clock.hpp"
#include "daemon/commands/command_context.hpp"
#include "daemon/consent_state.hpp"
#include "daemon/dispatcher.hpp"
#include "daemon/listener.hpp"
#include "daemon/maintenance.hpp"
#include "daemon/platform_info.hpp"
#include "daemon/status_report.hpp"
#include "daemon/storage_channel.hpp"
#include "daemon/upload/uploader.hpp"
#include "ipc/local_transport.hpp"
#include "privacy/privacy.hpp"

namespace dollhouse::daemon {

struct DaemonOptions {
  std::string data_root;
  std::string socket_path;
  PlatformInfo platform;
  const Clock* clock = &SystemClock::instance();
  // See DaemonFacts::endpoint_override.
  std::string endpoint_override;
  // What the shutdown op calls: the same ending as SIGTERM.
  std::function<void()> stop;
};

class Daemon {
 public:
  // `consent`, `storage` and `uploader` outlive the daemon.
  Daemon(boost::asio::io_context& io, DaemonOptions options, ConsentState& consent,
         StorageWorker& storage, Uploader& uploader, privacy::Scrubber scrubber);
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Starts accepting on an already listening socket and the maintenance timer.
  void start(ipc::LocalListener acceptor);
  // Stops accepting and closes every connection. Requests already read were dispatched.
  void shutdown();

 private:
  DaemonOptions options_;
  privacy::Scrubber scrubber_;
  DaemonFacts facts_;
  ConnectionCounts connections_;
  AppRegistry apps_;
  StorageChannel storage_;
  Maintenance maintenance_;
  CommandContext context_;
  Dispatcher dispatcher_;
  Listener listener_;
};

}  // namespace dollhouse::daemon
