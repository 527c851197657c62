// The uploader: sends consented events to the ingestion server in batches, and remote deletion
// requests before anything else, with exponential backoff and full jitter between failures.
//
// Runs on the daemon's I/O thread. Database work goes through the storage thread; HTTP through
// HttpExchange. One cycle at a time: a cycle sends pending deletions, then batches, until
// nothing is left or an attempt fails (then the next attempt is scheduled by backoff or the
// server's Retry-After). The schedule (failures, next attempt, last success and error) is kept
// in the database, so a restart neither forgets a backoff nor retries at once. A single timer
// is armed only while something is pending: an idle daemon does not wake up.
//
// Consent is checked when a batch is formed and again immediately before it is sent, so a
// withdrawal that lands while a batch waits in backoff sends nothing more. Remote deletions
// are sent whatever the consent.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "daemon/storage/storage_worker.hpp"
#include "daemon/upload/http_exchange.hpp"
#include "daemon/upload/upload_policy.hpp"
#include "ipc/reasons.hpp"

namespace dollhouse::daemon {

struct UploadSettings {
  std::int64_t batch_max_events;
  std::int64_t batch_max_bytes;
  std::size_t gzip_threshold_bytes;
  Millis flush_interval;
  Millis backoff_base;
  Millis backoff_cap;
  Millis max_retry_after;
  HttpTimeouts timeouts;
};

UploadSettings default_upload_settings();

// The stored value (EventStore::put_value) that holds when the server last confirmed a remote
// deletion; status reports it.
inline constexpr const char* kLastRemoteDeletionKey = "last_remote_deletion";

// What the uploader needs from the database at start, read before the storage thread runs so
// the daemon never answers with a schedule it has not loaded yet.
struct UploadSnapshot {
  nlohmann::json state = nlohmann::json::object();
  std::int64_t pending_events = 0;
  std::int64_t pending_deletions = 0;
};
UploadSnapshot read_upload_snapshot(EventStore& store);

class Uploader {
 public:
  // nullopt when uploading events is allowed now, else what blocks it (consent, kill switch).
  using ConsentCheck = std::function<std::optional<ipc::Blocker>()>;
  using FlushDone = std::function<void(nlohmann::json outcome)>;

  Uploader(boost::asio::io_context& io, StorageWorker& storage, const Clock& clock,
           RandomSource& random, const std::string& endpoint_url, const std::string& ca_file,
           UploadSettings settings, ConsentCheck consent);

  // Takes the stored schedule and arms the timer (or starts at once when a deletion or a full
  // batch is waiting).
  void start(const UploadSnapshot& snapshot);
  // `n` events were handed to storage.
  void on_events_accepted(std::int64_t n);
  // A remote deletion was queued durably: try it now, whatever the backoff says.
  void on_deletion_queued();
  // Upload now (dollhousectl telemetry flush); `done` gets what this cycle did.
  void flush_now(FlushDone done);
  // One last bounded cycle before the daemon exits, unless a backoff is running; `done` runs
  // once, at the latest at the deadline (what is not sent by then stays queued).
  void shutdown(Millis deadline, std::function<void()> done);

  // Uploads go to `url` from the next request on (an upload in flight finishes where it was
  // going). An invalid URL changes nothing and says why.
  Status set_endpoint(const std::string& url);
  const std::string& endpoint() const { return endpoint_text_; }

  bool configured() const { return endpoint_.has_value(); }
  // Why uploading is off when !configured(): the endpoint or TLS setup that failed.
  const std::string& config_error() const { return config_error_; }
  // The `upload` object of status.
  nlohmann::json status_json() const;

 private:
  struct Work;
  void begin_cycle();
  void next_step();
  void on_work(std::shared_ptr<Work> work);
  void send_deletion(const std::string& install_id);
  void send_batch(std::shared_ptr<Work> work);
  void on_batch_answer(std::shared_ptr<Work> work, HttpResult result);
  void on_deletion_answer(std::string install_id, HttpResult result);
  void fail_attempt(const std::string& error, const std::string& retry_after);
  void end_cycle(const std::string& error);
  void apply_pending_endpoint();
  void schedule();
  void persist();
  void load(const nlohmann::json& state);

  boost::asio::io_context& io_;
  StorageWorker& storage_;
  const Clock& clock_;
  RandomSource& random_;
  UploadSettings settings_;
  ConsentCheck consent_;
  std::string endpoint_text_;
  std::string ca_file_;
  std::optional<std::string> pending_endpoint_;  // set_endpoint during a cycle
  std::optional<Endpoint> endpoint_;
  std::string config_error_;
  std::shared_ptr<TlsContext> tls_;
  boost::asio::steady_timer timer_;
  std::shared_ptr<HttpExchange> exchange_;

  // Schedule, persisted.
  int consecutive_failures_ = 0;
  std::optional<SystemTime> next_attempt_;  // backoff or Retry-After
  std::optional<SystemTime> interval_due_;  // the regular flush while something is pending
  std::string last_success_;
  std::string last_error_;
  std::int64_t events_sent_ = 0;
  std::int64_t batches_sent_ = 0;
  std::int64_t deletions_sent_ = 0;
  std::int64_t duplicate_batches_ = 0;  // acknowledged as already stored by the server

  // Not persisted.
  std::int64_t pending_estimate_ = 0;
  std::int64_t accepted_during_step_ = 0;  // since the storage thread last looked
  std::int64_t pending_deletions_ = 0;
  bool cycle_active_ = false;
  // The cycle was started by flush_now: its failure does not lengthen a running backoff.
  bool manual_cycle_ = false;
  bool stopping_ = false;
  bool started_ = false;
  struct CycleReport {
    std::int64_t events = 0;
    std::int64_t batches = 0;
    std::int64_t deletions = 0;
    std::int64_t dropped = 0;
    std::int64_t already_delivered = 0;
    std::int64_t blocked_pending = 0;  // unsent events consent kept back
  } report_;
  std::vector<FlushDone> flush_waiters_;
  std::function<void()> shutdown_done_;
  std::unique_ptr<boost::asio::steady_timer> shutdown_timer_;
};

}  // namespace dollhouse::daemon
