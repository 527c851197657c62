// Maintenance of the local log, at start and every kMaintenanceInterval: events older than the
// user's maxDataRetention are deleted, and usage rollups of weeks that have ended become one
// weekly_summary event each (or are dropped, when usage is off).
//
// I/O thread: start(), stop() and run() read the consent state there and hand the storage thread
// a task with copies of what it needs.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <functional>

#include "common/clock.hpp"
#include "daemon/consent_state.hpp"
#include "daemon/platform_info.hpp"
#include "daemon/storage_channel.hpp"

namespace dollhouse::daemon {

class Maintenance {
 public:
  // Called on the I/O thread with the number of summaries committed.
  using OnStored = std::function<void(std::int64_t events)>;

  Maintenance(boost::asio::io_context& io, const Clock& clock, const ConsentState& consent,
              StorageChannel& storage, PlatformInfo platform, OnStored on_stored);

  // Runs once now, then every kMaintenanceInterval until stop().
  void start();
  void stop();
  // One pass: retention, then the rollup of every week that has ended by the clock's now.
  void run();

 private:
  void schedule();

  const Clock& clock_;
  const ConsentState& consent_;
  StorageChannel& storage_;
  PlatformInfo platform_;
  OnStored on_stored_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
};

}  // namespace dollhouse::daemon
