#include "server/aggregation/aggregation_timer.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

namespace dollhouse::server {

AggregationTimer::AggregationTimer(boost::asio::io_context& ioc, Storage& storage,
                                   const Clock& clock, RetentionPolicy policy,
                                   std::chrono::seconds interval)
    : timer_(boost::asio::make_strand(ioc)),
      storage_(storage),
      clock_(clock),
      policy_(policy),
      interval_(interval) {}

void AggregationTimer::start() {
  boost::asio::post(timer_.get_executor(), [this] {
    run_once();
    arm();
  });
}

void AggregationTimer::stop() {
  boost::asio::post(timer_.get_executor(), [this] {
    stopped_ = true;
    timer_.cancel();
  });
}

void AggregationTimer::arm() {
  if (stopped_) return;
  timer_.expires_after(interval_);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    run_once();
    arm();
  });
}

void AggregationTimer::run_once() {
  auto report = run_aggregation(storage_, clock_.now(), policy_);
  if (!report) {
    spdlog::warn("aggregation failed, will retry: {}", report.status().message());
  } else if (report->skipped) {
    spdlog::debug("aggregation skipped: another server instance is running it");
  } else if (report->events_rolled_up > 0 || report->batches_purged > 0) {
    spdlog::info("aggregation: {} raw events rolled up and deleted, {} old batch ids forgotten",
                 report->events_rolled_up, report->batches_purged);
  }
}

}  // namespace dollhouse::server
