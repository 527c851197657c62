#include "daemon/daemon.hpp"

#include <spdlog/spdlog.h>

#include "common/environment.hpp"
#include "daemon/crash_records.hpp"

namespace dollhouse::daemon {

Daemon::Daemon(boost::asio::io_context& io, DaemonOptions options, ConsentState& consent,
               StorageWorker& storage, Uploader& uploader, privacy::Scrubber scrubber)
    : options_(std::move(options)),
      scrubber_(std::move(scrubber)),
      facts_{DOLLHOUSE_VERSION,
             static_cast<std::int64_t>(current_process_id()),
             format_iso8601(options_.clock->now()),
             options_.data_root,
             options_.socket_path,
             options_.endpoint_override},
      storage_(io, storage),
      maintenance_(io, *options_.clock, consent, storage_, options_.platform,
                   [&uploader](std::int64_t n) { uploader.on_events_accepted(n); }),
      context_{consent,      apps_,        storage_,        uploader,
               maintenance_, scrubber_,    *options_.clock, options_.platform,
               facts_,       connections_, options_.stop},
      dispatcher_(context_),
      listener_(io, storage_, dispatcher_, connections_) {}

void Daemon::start(ipc::LocalListener acceptor) {
  listener_.start(std::move(acceptor));
  maintenance_.start();
  // Crash records every app left while no daemon read them (docs/protocol.md "Crash records").
  if (Status st = prepare_crash_directory(options_.data_root); !st)
    spdlog::warn("{}", st.message());
  scan_crash_records(context_, std::nullopt);
}

void Daemon::shutdown() {
  listener_.shutdown();
  maintenance_.stop();
}

}  // namespace dollhouse::daemon
