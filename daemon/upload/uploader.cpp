#include "daemon/upload/uploader.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "daemon/counters.hpp"
#include "daemon/settings.hpp"
#include "daemon/upload/gzip.hpp"

namespace dollhouse::daemon {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

constexpr const char* kStateKey = "upload_state";

std::string iso_or_empty(const std::optional<SystemTime>& t) {
  return t ? format_iso8601(*t) : std::string();
}

json null_if_empty(const std::string& s) {
  return s.empty() ? json() : json(s);
}

// A short, printable summary of a server's error body for status and the log: servers may
// echo anything, so only the start, and only plain characters.
// Whether a 2xx body says the server had stored this batch id before ({"duplicate":true}).
bool is_duplicate_ack(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  return j.is_object() && j.value("duplicate", false) == true;
}

std::string summarize_body(const std::string& body) {
  std::string out;
  for (char c : body) {
    if (out.size() >= 120) break;
    out.push_back(c >= 0x20 && c < 0x7f ? c : ' ');
  }
  return out;
}

}  // namespace

UploadSettings default_upload_settings() {
  return {kBatchMaxEvents,
          kBatchMaxBytes,
          kGzipThresholdBytes,
          std::chrono::duration_cast<Millis>(kFlushInterval),
          std::chrono::duration_cast<Millis>(kBackoffBase),
          std::chrono::duration_cast<Millis>(kBackoffCap),
          std::chrono::duration_cast<Millis>(kMaxRetryAfter),
          {std::chrono::duration_cast<Millis>(kConnectTimeout),
           std::chrono::duration_cast<Millis>(kHandshakeTimeout),
           std::chrono::duration_cast<Millis>(kRequestTimeout)}};
}

// What the storage thread found to do next.
struct Uploader::Work {
  std::string deletion;  // an installId whose server data must go
  UploadBatch batch;
  std::int64_t pending_deletions = 0;
  std::int64_t blocked_pending = 0;  // unsent events, when consent kept them back
  std::string error;
};

Uploader::Uploader(asio::io_context& io, StorageWorker& storage, const Clock& clock,
                   RandomSource& random, const std::string& endpoint_url,
                   const std::string& ca_file, UploadSettings settings, ConsentCheck consent)
    : io_(io),
      storage_(storage),
      clock_(clock),
      random_(random),
      settings_(settings),
      consent_(std::move(consent)),
      endpoint_text_(endpoint_url),
      ca_file_(ca_file),
      timer_(io) {
  if (Status st = set_endpoint(endpoint_url); !st) {
    config_error_ = st.message();
    spdlog::error("uploading is off: {}", config_error_);
  }
}

Status Uploader::set_endpoint(const std::string& url) {
  auto endpoint = parse_endpoint(url);
  if (!endpoint) return endpoint.status();
  auto tls = make_tls_context(ca_file_);
  if (!tls) return tls.status();
  if (cycle_active_) {
    pending_endpoint_ = url;
    return Status::ok();
  }
  const bool was_configured = configured();
  endpoint_text_ = url;
  endpoint_ = std::move(endpoint.value());
  tls_ = std::move(tls.value());
  config_error_.clear();
  pending_endpoint_.reset();
  if (!was_configured && pending_estimate_ > 0 && !interval_due_) {
    interval_due_ = clock_.now() + settings_.flush_interval;
  }
  if (was_configured || started_) schedule();
  return Status::ok();
}

void Uploader::apply_pending_endpoint() {
  if (!pending_endpoint_) return;
  std::string url = std::move(*pending_endpoint_);
  pending_endpoint_.reset();
  if (Status st = set_endpoint(url); !st) spdlog::warn("new endpoint not used: {}", st.message());
}

UploadSnapshot read_upload_snapshot(EventStore& store) {
  UploadSnapshot snapshot;
  if (auto v = store.get_value(kStateKey); v && v->has_value()) {
    json state = json::parse(**v, nullptr, false);
    if (state.is_object()) snapshot.state = std::move(state);
  }
  if (auto stats = store.stats()) snapshot.pending_events = stats->pending;
  if (auto deletions = store.pending_deletions()) {
    snapshot.pending_deletions = static_cast<std::int64_t>(deletions->size());
  }
  return snapshot;
}

void Uploader::start(const UploadSnapshot& snapshot) {
  started_ = true;
  load(snapshot.state);
  pending_estimate_ += snapshot.pending_events;
  pending_deletions_ += snapshot.pending_deletions;
  if (!configured()) return;
  if (pending_estimate_ > 0 && !interval_due_) {
    interval_due_ = clock_.now() + settings_.flush_interval;
  }
  // Deletions and full batches do not wait for the interval.
  if (!next_attempt_ &&
      (pending_deletions_ > 0 || pending_estimate_ >= settings_.batch_max_events)) {
    begin_cycle();
  } else {
    schedule();
  }
}

void Uploader::load(const json& state) {
  if (!state.is_object()) return;
  consecutive_failures_ = state.value("consecutiveFailures", 0);
  if (auto ms = state.value("nextAttemptMs", std::int64_t{0}); ms > 0) {
    next_attempt_ = from_unix_millis(ms);
    // A stored attempt further out than any wait the daemon ever sets means the wall clock was
    // set back since it was stored: wait the longest legitimate time, never a year.
    const SystemTime latest =
        clock_.now() + std::max(settings_.backoff_cap, settings_.max_retry_after);
    if (*next_attempt_ > latest) next_attempt_ = latest;
  }
  last_success_ = state.value("lastSuccess", "");
  last_error_ = state.value("lastError", "");
  events_sent_ = state.value("eventsSent", std::int64_t{0});
  batches_sent_ = state.value("batchesSent", std::int64_t{0});
  deletions_sent_ = state.value("deletionsSent", std::int64_t{0});
  duplicate_batches_ = state.value("duplicateBatches", std::int64_t{0});
}

void Uploader::persist() {
  json state = {{"consecutiveFailures", consecutive_failures_},
                {"nextAttemptMs", next_attempt_ ? to_unix_millis(*next_attempt_) : 0},
                {"lastSuccess", last_success_},
                {"lastError", last_error_},
                {"eventsSent", events_sent_},
                {"batchesSent", batches_sent_},
                {"deletionsSent", deletions_sent_},
                {"duplicateBatches", duplicate_batches_}};
  storage_.post(
      [text = state.dump()](StorageContext& ctx) { (void)ctx.store.put_value(kStateKey, text); });
}

void Uploader::on_events_accepted(std::int64_t n) {
  if (stopping_) return;
  if (!configured()) {
    pending_estimate_ += n;  // sent once an endpoint is set
    return;
  }
  pending_estimate_ += n;
  accepted_during_step_ += n;
  if (!cycle_active_ && !next_attempt_ && pending_estimate_ >= settings_.batch_max_events) {
    begin_cycle();
  } else if (!interval_due_) {
    // The first pending event arms the regular flush; later ones leave the timer alone.
    interval_due_ = clock_.now() + settings_.flush_interval;
    schedule();
  }
}

void Uploader::on_deletion_queued() {
  if (stopping_) return;
  ++pending_deletions_;
  if (!configured()) return;
  next_attempt_.reset();
  if (!cycle_active_) begin_cycle();
}

void Uploader::flush_now(FlushDone done) {
  if (!configured()) {
    done({{"error", {{"code", ipc::ErrorCode::kNotConfigured}, {"message", config_error_}}}});
    return;
  }
  flush_waiters_.push_back(std::move(done));
  if (!cycle_active_) {
    begin_cycle();
    manual_cycle_ = true;
  }
}

void Uploader::shutdown(Millis deadline, std::function<void()> done) {
  stopping_ = true;
  timer_.cancel();
  const bool allowed = !consent_().has_value();
  // A daemon in backoff keeps waiting: shutting down is no reason to retry early.
  bool work = cycle_active_ ||
              (!next_attempt_ && (pending_deletions_ > 0 || (pending_estimate_ > 0 && allowed)));
  if (!configured() || !work) {
    done();
    return;
  }
  shutdown_done_ = std::move(done);
  shutdown_timer_ = std::make_unique<asio::steady_timer>(io_, deadline);
  shutdown_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec || !shutdown_done_) return;
    spdlog::info("upload did not finish before shutdown; the rest stays queued");
    if (exchange_) exchange_->cancel();
    auto finish = std::move(shutdown_done_);
    shutdown_done_ = nullptr;
    finish();
  });
  if (!cycle_active_) begin_cycle();
}

void Uploader::begin_cycle() {
  cycle_active_ = true;
  manual_cycle_ = false;
  timer_.cancel();
  report_ = {};
  next_step();
}

void Uploader::next_step() {
  accepted_during_step_ = 0;
  bool allowed = !consent_().has_value();
  auto new_id = make_uuid_v4(random_);
  std::int64_t max_events = settings_.batch_max_events;
  std::int64_t max_bytes = settings_.batch_max_bytes;
  storage_.post([this, allowed, new_id, max_events, max_bytes](StorageContext& ctx) {
    auto work = std::make_shared<Work>();
    auto deletions = ctx.store.pending_deletions();
    if (!deletions) {
      work->error = deletions.status().message();
    } else {
      work->pending_deletions = static_cast<std::int64_t>(deletions->size());
      if (!deletions->empty()) {
        work->deletion = deletions->front().install_id;
      } else if (allowed) {
        auto batch = ctx.store.take_batch(max_events, max_bytes, new_id);
        if (batch) {
          work->batch = std::move(batch.value());
        } else {
          work->error = batch.status().message();
        }
      } else if (auto stats = ctx.store.stats()) {
        work->blocked_pending = stats->pending;
      }
    }
    ctx.on_commit.push_back([this, work](const Status& st) {
      if (!st) work->error = st.message();
      asio::post(io_, [this, work] { on_work(work); });
    });
  });
}

void Uploader::on_work(std::shared_ptr<Work> work) {
  pending_deletions_ = work->pending_deletions;
  if (!work->error.empty()) return fail_attempt("local database: " + work->error, "");
  if (!work->deletion.empty()) return send_deletion(work->deletion);
  report_.blocked_pending = work->blocked_pending;
  if (work->batch.bodies.empty()) {
    // Nothing was unsent when the storage thread looked; only what arrived since is pending.
    pending_estimate_ = accepted_during_step_;
    if (pending_estimate_ == 0) {
      interval_due_.reset();
    } else if (!interval_due_) {
      interval_due_ = clock_.now() + settings_.flush_interval;
    }
    return end_cycle("");
  }
  send_batch(std::move(work));
}

void Uploader::send_deletion(const std::string& install_id) {
  HttpRequestSpec req{
      "DELETE", endpoint_->deletion_target(install_id), "", {{"X-Telemetry-Version", "1.0"}}};
  exchange_ = HttpExchange::start(io_, *tls_, *endpoint_, std::move(req), settings_.timeouts,
                                  [this, install_id](HttpResult r) {
                                    exchange_.reset();
                                    on_deletion_answer(install_id, std::move(r));
                                  });
}

void Uploader::on_deletion_answer(std::string install_id, HttpResult r) {
  bool done = (r.status >= 200 && r.status < 300) || r.status == 404;
  if (!done) {
    std::string error =
        r.status == 0 ? r.error : "remote deletion: HTTP " + std::to_string(r.status);
    return fail_attempt(error, r.retry_after);
  }
  spdlog::info("the server confirmed a remote deletion (HTTP {})", r.status);
  consecutive_failures_ = 0;
  ++deletions_sent_;
  ++report_.deletions;
  std::string now = format_iso8601(clock_.now());
  persist();
  storage_.post([this, install_id, now](StorageContext& ctx) {
    (void)ctx.store.finish_deletion(install_id);
    (void)ctx.store.put_value(kLastRemoteDeletionKey, now);
    ctx.on_commit.push_back([this](const Status&) { asio::post(io_, [this] { next_step(); }); });
  });
}

void Uploader::send_batch(std::shared_ptr<Work> work) {
  // Consent again, right before anything leaves the machine.
  if (consent_().has_value()) {
    return end_cycle("");
  }
  json events = json::array();
  std::string install_id;
  for (const auto& body : work->batch.bodies) {
    json e = json::parse(body, nullptr, false);
    if (e.is_discarded()) continue;
    if (install_id.empty()) install_id = e.value("installId", "");
    events.push_back(std::move(e));
  }
  json payload = {{"installId", install_id}, {"batchId", work->batch.batch_id}, {"events", events}};
  HttpRequestSpec req{"POST",
                      endpoint_->target,
                      payload.dump(),
                      {{"Content-Type", "application/json"},
                       {"X-Telemetry-Version", "1.0"},
                       {"Idempotency-Key", work->batch.batch_id}}};
  if (req.body.size() > settings_.gzip_threshold_bytes) {
    if (auto gz = gzip_compress(req.body)) {
      req.body = std::move(*gz);
      req.headers.push_back({"Content-Encoding", "gzip"});
    }
  }
  spdlog::debug("uploading batch {} ({} events, {} bytes)", work->batch.batch_id,
                work->batch.bodies.size(), req.body.size());
  exchange_ = HttpExchange::start(io_, *tls_, *endpoint_, std::move(req), settings_.timeouts,
                                  [this, work](HttpResult r) {
                                    exchange_.reset();
                                    on_batch_answer(work, std::move(r));
                                  });
}

void Uploader::on_batch_answer(std::shared_ptr<Work> work, HttpResult r) {
  auto n = static_cast<std::int64_t>(work->batch.bodies.size());
  const std::string batch_id = work->batch.batch_id;
  switch (classify_status(r.status)) {
    case UploadOutcome::kDelivered:
      consecutive_failures_ = 0;
      next_attempt_.reset();
      last_success_ = format_iso8601(clock_.now());
      if (is_duplicate_ack(r.body)) {
        // The server had this batch already (an earlier attempt reached it, but its answer
        // did not reach us): delivered, but not sent again, so not counted again.
        ++duplicate_batches_;
        report_.already_delivered += n;
      } else {
        events_sent_ += n;
        ++batches_sent_;
        report_.events += n;
        ++report_.batches;
      }
      pending_estimate_ = std::max<std::int64_t>(0, pending_estimate_ - n);
      persist();
      storage_.post([this, batch_id](StorageContext& ctx) {
        if (auto marked = ctx.store.mark_batch_sent(batch_id))
          ctx.count(counter::kUploaded, *marked);
        ctx.on_commit.push_back(
            [this](const Status&) { asio::post(io_, [this] { next_step(); }); });
      });
      return;
    case UploadOutcome::kRetry:
      return fail_attempt(r.status == 0 ? r.error : "HTTP " + std::to_string(r.status),
                          r.retry_after);
    case UploadOutcome::kDropBatch: {
      std::string reason = "the server refused a batch of " + std::to_string(n) +
                           " events with HTTP " + std::to_string(r.status);
      if (!r.body.empty()) reason += ": " + summarize_body(r.body);
      spdlog::warn("{}; the batch is dropped", reason);
      last_error_ = reason;
      report_.dropped += n;
      pending_estimate_ = std::max<std::int64_t>(0, pending_estimate_ - n);
      persist();
      storage_.post([this, batch_id](StorageContext& ctx) {
        if (auto dropped = ctx.store.drop_batch(batch_id)) {
          ctx.count(counter::dropped(ipc::DropReason::kRejectedByServer), *dropped);
        }
        ctx.on_commit.push_back(
            [this](const Status&) { asio::post(io_, [this] { next_step(); }); });
      });
      return;
    }
  }
}

void Uploader::fail_attempt(const std::string& error, const std::string& retry_after) {
  if (manual_cycle_ && next_attempt_ && *next_attempt_ > clock_.now()) {
    // A flush asked for by the user failed while a backoff was running: the schedule stays as
    // it was, so asking again and again never pushes the automatic attempt further out.
    last_error_ = error;
    spdlog::info("upload asked for now failed: {}; the next automatic attempt stays as planned",
                 error);
    persist();
    return end_cycle(error);
  }
  ++consecutive_failures_;
  Millis delay =
      backoff_delay(consecutive_failures_, settings_.backoff_base, settings_.backoff_cap, random_);
  // Retry-After can only make the wait longer: "0" or a past date must not cause a storm.
  if (auto ra = parse_retry_after(retry_after, clock_.now())) {
    delay = std::max(delay, std::min(*ra, settings_.max_retry_after));
  }
  next_attempt_ = clock_.now() + delay;
  last_error_ = error;
  spdlog::info("upload failed ({} in a row): {}; next attempt in {} ms", consecutive_failures_,
               error, delay.count());
  persist();
  end_cycle(error);
}

void Uploader::end_cycle(const std::string& error) {
  cycle_active_ = false;
  manual_cycle_ = false;
  const bool nothing = error.empty() && report_.events == 0 && report_.batches == 0 &&
                       report_.deletions == 0 && report_.dropped == 0 &&
                       report_.already_delivered == 0;
  const auto blocked = report_.blocked_pending > 0 ? consent_() : std::nullopt;
  json outcome = {{"nothingToSend", nothing && !blocked},
                  {"heldBack", report_.blocked_pending},
                  {"blockedBy", blocked ? json(*blocked) : json()},
                  {"sentEvents", report_.events},
                  {"alreadyDelivered", report_.already_delivered},
                  {"batches", report_.batches},
                  {"deletions", report_.deletions},
                  {"droppedByServer", report_.dropped},
                  {"error", null_if_empty(error)},
                  {"nextAttempt", null_if_empty(iso_or_empty(next_attempt_))}};
  auto waiters = std::move(flush_waiters_);
  flush_waiters_.clear();
  for (auto& w : waiters) w(outcome);
  apply_pending_endpoint();
  if (shutdown_done_) {
    if (shutdown_timer_) shutdown_timer_->cancel();
    auto done = std::move(shutdown_done_);
    shutdown_done_ = nullptr;
    done();
    return;
  }
  schedule();
}

void Uploader::schedule() {
  timer_.cancel();
  if (stopping_ || cycle_active_ || !configured()) return;
  // A moment further out than any wait the daemon sets means the wall clock was set back since
  // it was chosen (the timer is re-armed from the wall clock after a flush, a new endpoint or
  // new events): wait the longest legitimate time, never a year, as load() does at start.
  const SystemTime now = clock_.now();
  const SystemTime latest_retry = now + std::max(settings_.backoff_cap, settings_.max_retry_after);
  if (next_attempt_ && *next_attempt_ > latest_retry) next_attempt_ = latest_retry;
  if (interval_due_ && *interval_due_ > now + settings_.flush_interval) {
    interval_due_ = now + settings_.flush_interval;
  }
  std::optional<SystemTime> due;
  if (pending_deletions_ > 0 || pending_estimate_ > 0) {
    due = next_attempt_ ? next_attempt_ : interval_due_;
    if (!next_attempt_ && pending_deletions_ > 0) due = clock_.now();
  }
  if (!due) return;
  auto delay = std::max(Millis(0), std::chrono::duration_cast<Millis>(*due - clock_.now()));
  timer_.expires_after(delay);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_ || cycle_active_) return;
    next_attempt_.reset();
    interval_due_ = clock_.now() + settings_.flush_interval;
    begin_cycle();
  });
}

json Uploader::status_json() const {
  return {{"endpoint", endpoint_text_},
          {"configured", configured()},
          {"configError", null_if_empty(config_error_)},
          {"lastSuccess", null_if_empty(last_success_)},
          {"lastError", null_if_empty(last_error_)},
          {"nextAttempt",
           null_if_empty(iso_or_empty(
               cycle_active_ ? std::nullopt : (next_attempt_ ? next_attempt_ : interval_due_)))},
          {"consecutiveFailures", consecutive_failures_},
          {"eventsSent", events_sent_},
          {"batchesSent", batches_sent_},
          {"inProgress", cycle_active_},
          {"pendingDeletions", pending_deletions_},
          {"deletionsSent", deletions_sent_},
          {"duplicateBatches", duplicate_batches_}};
}

}  // namespace dollhouse::daemon
