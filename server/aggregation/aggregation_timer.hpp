// Runs the aggregation job (rollup.hpp) on a timer: once at start, then every `interval`.
//
// The job runs on the io_context's threads and blocks one of them for the length of a run.
// Time for the job comes from the injected Clock; the timer only decides when to look.
// start() and stop() are called from the thread that set up the server or from a handler.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>

#include "server/aggregation/rollup.hpp"

namespace dollhouse::server {

class AggregationTimer {
 public:
  AggregationTimer(boost::asio::io_context& ioc, Storage& storage, const Clock& clock,
                   RetentionPolicy policy, std::chrono::seconds interval);
  void start();
  void stop();

 private:
  void run_once();
  void arm();

  boost::asio::steady_timer timer_;
  Storage& storage_;
  const Clock& clock_;
  RetentionPolicy policy_;
  std::chrono::seconds interval_;
  bool stopped_ = false;
};

}  // namespace dollhouse::server
