// Maintenance of the local log, at start and every kMaintenanceInterval: events older than the
// user's maxDataRetention are deleted, and usage rollups of weeks that have ended become one
// weekly_summary event each (or are dropped, when usage is off). It also finishes what a full
// disk interrupted: a withdrawal not yet saved to telemetry.json is saved, and unsent events
// left after a withdrawal, or of an app the user switched off, are deleted; while either is pending
// it runs every kPersistRetryInterval.
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

  Maintenance(boost::asio::io_context& io, const Clock& clock, ConsentState& consent,
              StorageChannel& storage, PlatformInfo platform, OnStored on_stored);

  // Runs once now, then every kMaintenanceInterval until stop().
  void start();
  void stop();
  // One pass: retention, then the rollup of every week that has ended by the clock's now.
  void run();
  // A withdrawal could not be completed on disk: the next pass runs after
  // kPersistRetryInterval.
  void retry_soon();

 private:
  void schedule();
  // Runs the next pass after `delay` instead of what was scheduled.
  void reschedule(std::chrono::milliseconds delay);

  const Clock& clock_;
  ConsentState& consent_;
  StorageChannel& storage_;
  PlatformInfo platform_;
  OnStored on_stored_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
  bool purge_pending_ = false;  // the last pass could not delete what a withdrawal left
};

}  // namespace dollhouse::daemon
