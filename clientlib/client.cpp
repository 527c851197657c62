// Client: a bounded queue in front of one background thread that owns the daemon connection.
//
// Rules that keep the host app safe:
// - Public calls only serialise, take the mutex briefly and push; they never touch the socket,
//   and wake the background thread only when it sleeps: after sending it polls the queue
//   (kLingerSteps times, kLingerStep apart) before it sleeps, so an app sending events in a
//   burst makes no system call per event.
// - The background thread writes the events waiting at the front in one write (at most
//   kMaxWriteBytes). It checks that an open connection still lives only when it was idle for
//   kProbeAfterIdle; a write that finds the daemon gone before any byte went out is made again
//   on a new connection, so an event sent after a daemon restart is not lost.
// - The background thread is the only user of the connection. Every socket operation has a
//   deadline no later than now + op_timeout() (at most 5 s, at most shutdown_timeout), and no
//   later than the stop deadline once destruction began, so joining it is bounded.
// - When a connection attempt fails, everything queued is dropped (dropped_no_daemon) and the
//   client stays "unreachable" for a backoff delay during which new events are dropped at once.
//   The next event after the delay triggers the next attempt. Memory therefore never grows
//   while the daemon is away, and an app that sends nothing causes no reconnection attempts.
// - A hello is sent at connection, and again for refresh_consent(). Its reply tells the consent
//   state (which arms or disarms the crash handler) and what became of the setup reports; those
//   not settled yet go out again with the next hello. Options with setup reports, and the crash
//   handler's installation, connect at once instead of at the first event.
// - The developer echo (DOLLHOUSE_TELEMETRY_DEBUG=1) sends each event with an id, waits for its
//   reply and prints the event and the verdict to stderr, one line each.
#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <new>
#include <random>
#include <thread>

#include "clientlib/backoff.hpp"
#include "clientlib/crash_handler.hpp"
#include "clientlib/event_json.hpp"
#include "common/environment.hpp"
#include "dollhouse/telemetry.hpp"
#include "ipc/line_connection.hpp"

namespace dollhouse::telemetry {
namespace {

using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;
using std::chrono::milliseconds;

constexpr milliseconds kMaxOpTimeout{5000};
constexpr milliseconds kMinOpTimeout{100};
// How long the background thread looks for more work before it sleeps, and how often.
constexpr std::chrono::microseconds kLingerStep{50};
constexpr int kLingerSteps = 20;
// An open connection unused for this long is probed (closed by an idle daemon?) before use.
constexpr milliseconds kProbeAfterIdle{250};
// The events written together at most (one write of the front of the queue).
constexpr std::size_t kMaxWriteBytes = 16 * 1024;

// One flush() call waiting for the background thread to reach its place in the queue.
struct FlushWaiter {
  TimePoint deadline;
  bool done = false;
  bool ok = false;
};

// A protocol line (an event), the place of a flush() call in the queue (a sync), or a hello
// to say again (refresh_consent, the crash handler's installation, setup reports).
enum class ItemKind { kEvent, kSync, kHello };
struct Item {
  ItemKind kind = ItemKind::kEvent;
  std::string line;
  std::shared_ptr<FlushWaiter> flush;  // kSync; kHello when someone waits for it
};

// DOLLHOUSE_TELEMETRY_DEBUG turns the echo on with 1 (or true, yes, on).
bool echo_requested(const EnvLookup& env) {
  auto value = env("DOLLHOUSE_TELEMETRY_DEBUG");
  if (!value) return false;
  std::string v = *value;
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v == "1" || v == "true" || v == "yes" || v == "on";
}

std::string data_root_of(const ClientOptions& options, const EnvLookup& env) {
  if (!options.data_root.empty()) return options.data_root;
  auto root = resolve_data_root(std::nullopt, env);
  return root ? *root : std::string();
}

EnvLookup environment_of(const ClientOptions& options) {
  if (options.environment) return map_env(*options.environment);
  return process_env();
}

std::string socket_path_of(const ClientOptions& options, const EnvLookup& env) {
  if (!options.socket_path.empty()) return options.socket_path;
  auto root = resolve_data_root(std::nullopt, env);
  // Without a home directory the root-relative default cannot exist; an empty path simply
  // never connects, which is the "no daemon" case.
  return resolve_socket_path(std::nullopt, env, root ? *root : std::string());
}

}  // namespace

struct Client::Impl {
  explicit Impl(ClientOptions options);
  ~Impl();

  template <typename MakeLine>
  bool submit(MakeLine&& make_line) noexcept;
  bool flush(milliseconds timeout);
  ClientStats stats() const;
  ConsentView consent() const;
  ConsentView refresh_consent(milliseconds timeout);
  CrashHandlerResult install_crash_handler(std::string_view component);

  bool enabled_ = false;

 private:
  bool enqueue(std::optional<std::string> line);
  void push_hello_locked(std::shared_ptr<FlushWaiter> waiter);
  std::string hello_line_locked(std::int64_t id) const;
  Status say_hello(ipc::LineConnection& connection, TimePoint deadline, std::int64_t id);
  void apply_hello_reply(const nlohmann::json& body);
  void hello_front(std::unique_lock<std::mutex>& lock);
  void echo_delivery(const std::string& line, TimePoint deadline);
  void echo(const std::string& line, std::string_view verdict) const;
  void run() noexcept;
  void loop(std::unique_lock<std::mutex>& lock);
  bool ensure_connected(std::unique_lock<std::mutex>& lock);
  Status connect_and_hello(TimePoint deadline, std::int64_t id);
  bool connection_alive();
  void deliver_front(std::unique_lock<std::mutex>& lock);
  void sync_front(std::unique_lock<std::mutex>& lock);
  void on_unreachable_locked(TimePoint now);
  void drop_queue_locked();
  void linger(std::unique_lock<std::mutex>& lock);
  void pop_front_locked();
  milliseconds op_timeout() const;
  TimePoint io_deadline_locked(TimePoint now) const;

  const ClientOptions options_;
  std::string socket_path_;
  std::string data_root_;
  bool echo_ = false;
  std::string kill_switch_detail_;  // why enabled_ is false

  mutable std::mutex mu_;
  std::condition_variable work_cv_;   // the worker waits for items or stop
  std::condition_variable flush_cv_;  // flush() callers wait for their FlushWaiter
  std::deque<Item> queue_;
  std::size_t queued_events_ = 0;  // items in queue_ that are events, not flush places
  bool worker_asleep_ = false;     // the worker waits on work_cv_ and must be woken
  std::deque<Item> dropped_;       // dropped items, freed by the worker outside the lock
  ClientStats stats_;
  bool worker_running_ = false;
  bool stopping_ = false;
  TimePoint stop_deadline_ = TimePoint::max();
  TimePoint unreachable_until_{};
  std::uint32_t consecutive_failures_ = 0;
  std::minstd_rand random_;
  std::thread worker_;
  ConsentView consent_;
  // Setup reports the daemon has not settled yet (sent with every hello).
  std::optional<nlohmann::json> pending_installation_;
  std::optional<nlohmann::json> pending_update_;
  bool crash_handler_bound_ = false;

  // Used by the worker thread only.
  ipc::LineConnection connection_;
  bool hello_just_said_ = false;  // the connection was opened (and said hello) for the front
  TimePoint last_exchange_{};     // the connection's last successful write or reply
  std::string write_buffer_;
  std::int64_t next_id_ = 1;
};

Client::Impl::Impl(ClientOptions options) : options_(std::move(options)) {
  EnvLookup env = environment_of(options_);
  echo_ = echo_requested(env);
  KillSwitch kill_switch = evaluate_kill_switches(env);
  enabled_ = !kill_switch.off;
  if (!enabled_) {
    kill_switch_detail_ = kill_switch.overridden_by;
    return;
  }
  socket_path_ = socket_path_of(options_, env);
  data_root_ = data_root_of(options_, env);
  if (options_.installation)
    pending_installation_ = detail::installation_event(*options_.installation);
  if (options_.update) pending_update_ = detail::update_event(*options_.update);
  random_.seed(static_cast<std::uint32_t>(SteadyClock::now().time_since_epoch().count()) ^
               static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(this)));
  try {
    worker_ = std::thread([this] { run(); });
    worker_running_ = true;
  } catch (const std::system_error&) {
    // No thread: every event is counted as dropped_no_daemon; the app is unaffected.
  }
  // Setup reports go out at once: the app may not send an event for a long time.
  if (pending_installation_ || pending_update_) {
    std::lock_guard lock(mu_);
    push_hello_locked(nullptr);
  }
}

Client::Impl::~Impl() {
  try {
    if (crash_handler_bound_) detail::release_crash_handler(this);
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      stop_deadline_ = SteadyClock::now() + std::max(options_.shutdown_timeout, milliseconds(0));
    }
    work_cv_.notify_all();
    if (worker_.joinable()) worker_.join();
  } catch (...) {
    // join() fails only on a broken thread library; do not let that reach the app.
  }
}

template <typename MakeLine>
bool Client::Impl::submit(MakeLine&& make_line) noexcept {
  try {
    if (!enabled_) {
      if (echo_) {
        auto line = make_line();
        echo(line ? *line : std::string(),
             "dropped: a kill switch is in force (" + kill_switch_detail_ + ")");
      }
      std::lock_guard lock(mu_);
      ++stats_.dropped_disabled;
      return false;
    }
    return enqueue(make_line());
  } catch (...) {
    // Out of memory while serialising or queueing: the event is lost, the app goes on.
    try {
      std::lock_guard lock(mu_);
      ++stats_.dropped_queue_full;
    } catch (...) {
    }
    return false;
  }
}

bool Client::Impl::enqueue(std::optional<std::string> line) {
  std::unique_lock lock(mu_);
  if (!line) {
    ++stats_.dropped_invalid;
    if (echo_) echo("", "dropped: not a JSON object (or too long, or nested too deep)");
    return false;
  }
  if (!worker_running_ || stopping_ || SteadyClock::now() < unreachable_until_) {
    ++stats_.dropped_no_daemon;
    if (echo_) echo(*line, "dropped: daemon not running");
    return false;
  }
  if (queued_events_ >= options_.max_queued_events) {
    ++stats_.dropped_queue_full;
    if (echo_) echo(*line, "dropped: queue full");
    return false;
  }
  queue_.push_back(Item{ItemKind::kEvent, std::move(*line), nullptr});
  ++queued_events_;
  ++stats_.queued;
  const bool wake = worker_asleep_;
  lock.unlock();
  if (wake) work_cv_.notify_one();
  return true;
}

bool Client::Impl::flush(milliseconds timeout) {
  if (!enabled_) return false;
  auto waiter = std::make_shared<FlushWaiter>();
  waiter->deadline = SteadyClock::now() + std::max(timeout, milliseconds(0));
  std::unique_lock lock(mu_);
  if (!worker_running_ || stopping_ || SteadyClock::now() < unreachable_until_) return false;
  queue_.push_back(Item{ItemKind::kSync, {}, waiter});
  work_cv_.notify_one();
  flush_cv_.wait_until(lock, waiter->deadline, [&] { return waiter->done; });
  return waiter->done && waiter->ok;
}

void Client::Impl::push_hello_locked(std::shared_ptr<FlushWaiter> waiter) {
  if (!worker_running_ || stopping_) {
    if (waiter) waiter->done = true;
    return;
  }
  queue_.push_back(Item{ItemKind::kHello, {}, std::move(waiter)});
  work_cv_.notify_one();
}

ConsentView Client::Impl::consent() const {
  std::lock_guard lock(mu_);
  return consent_;
}

ConsentView Client::Impl::refresh_consent(milliseconds timeout) {
  if (!enabled_) return ConsentView{};
  auto waiter = std::make_shared<FlushWaiter>();
  waiter->deadline = SteadyClock::now() + std::max(timeout, milliseconds(0));
  std::unique_lock lock(mu_);
  // During a backoff the daemon is known to be away; trying again now would defeat it.
  if (SteadyClock::now() < unreachable_until_) return consent_;
  push_hello_locked(waiter);
  flush_cv_.wait_until(lock, waiter->deadline, [&] { return waiter->done; });
  return consent_;
}

CrashHandlerResult Client::Impl::install_crash_handler(std::string_view component) {
  if (!enabled_) return CrashHandlerResult::kDisabled;
  detail::CrashRecordFacts facts{
      options_.app, options_.app_version, options_.node_version, options_.mcp_client,
      component.empty() ? std::string("native") : std::string(component)};
  const std::string crash_dir = data_root_.empty() ? std::string() : data_root_ + "/crashes";
  if (crash_dir.empty()) return CrashHandlerResult::kFailed;
  CrashHandlerResult result = detail::install_crash_handler(this, crash_dir, facts);
  if (result != CrashHandlerResult::kInstalled) return result;
  std::lock_guard lock(mu_);
  crash_handler_bound_ = true;
  // Armed at once when a hello reply already said so; else the hello asked for here tells.
  detail::arm_crash_handler(this, consent_.crash_reports);
  push_hello_locked(nullptr);
  return result;
}

ClientStats Client::Impl::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

milliseconds Client::Impl::op_timeout() const {
  return std::clamp(options_.shutdown_timeout, kMinOpTimeout, kMaxOpTimeout);
}

TimePoint Client::Impl::io_deadline_locked(TimePoint now) const {
  return std::min(now + op_timeout(), stop_deadline_);
}

void Client::Impl::run() noexcept {
  std::unique_lock lock(mu_, std::defer_lock);
  try {
    lock.lock();
    loop(lock);
  } catch (...) {
    // Only allocation failures can get here; give up on the connection, keep the app alive.
  }
  try {
    if (!lock.owns_lock()) lock.lock();
    drop_queue_locked();
    worker_running_ = false;
  } catch (...) {
  }
  connection_.close();
}

void Client::Impl::linger(std::unique_lock<std::mutex>& lock) {
  if (!dropped_.empty()) {
    std::deque<Item> dropped = std::move(dropped_);
    dropped_.clear();
    lock.unlock();
    dropped.clear();
    lock.lock();
  }
  for (int step = 0; step < kLingerSteps && queue_.empty() && !stopping_; ++step) {
    lock.unlock();
    std::this_thread::sleep_for(kLingerStep);
    lock.lock();
  }
}

void Client::Impl::loop(std::unique_lock<std::mutex>& lock) {
  while (true) {
    if (queue_.empty() && !stopping_) {
      linger(lock);
      worker_asleep_ = true;
      work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      worker_asleep_ = false;
    }
    if (queue_.empty()) return;  // stopping with nothing left to hand over
    if (stopping_ && SteadyClock::now() >= stop_deadline_) return;
    if (!ensure_connected(lock)) continue;
    switch (queue_.front().kind) {
      case ItemKind::kSync:
        sync_front(lock);
        break;
      case ItemKind::kHello:
        hello_front(lock);
        break;
      case ItemKind::kEvent:
        deliver_front(lock);
        break;
    }
    hello_just_said_ = false;
  }
}

bool Client::Impl::ensure_connected(std::unique_lock<std::mutex>& lock) {
  if (connection_.is_open()) {
    if (SteadyClock::now() - last_exchange_ < kProbeAfterIdle) return true;
    lock.unlock();
    bool alive = connection_alive();
    lock.lock();
    if (alive) return true;
    // The daemon went away between two messages (restart, idle timeout): reconnect at once,
    // without counting a failure, so an event sent after a restart is not lost.
    connection_.close();
  }
  TimePoint now = SteadyClock::now();
  if (now < unreachable_until_) {
    drop_queue_locked();
    return false;
  }
  TimePoint deadline = io_deadline_locked(now);
  std::int64_t id = next_id_++;
  lock.unlock();
  Status status = connect_and_hello(deadline, id);
  lock.lock();
  if (!status) {
    on_unreachable_locked(SteadyClock::now());
    return false;
  }
  hello_just_said_ = true;
  last_exchange_ = SteadyClock::now();
  return true;
}

Status Client::Impl::connect_and_hello(TimePoint deadline, std::int64_t id) {
  auto connection = ipc::LineConnection::connect(socket_path_, deadline);
  if (!connection) return connection.status();
  if (Status said = say_hello(*connection, deadline, id); !said) return said;
  connection_ = std::move(*connection);
  return Status::ok();
}

std::string Client::Impl::hello_line_locked(std::int64_t id) const {
  nlohmann::json setup = nlohmann::json::array();
  if (pending_installation_) setup.push_back(*pending_installation_);
  if (pending_update_) setup.push_back(*pending_update_);
  return detail::hello_line(options_, id, setup);
}

Status Client::Impl::say_hello(ipc::LineConnection& connection, TimePoint deadline,
                               std::int64_t id) {
  std::string hello;
  {
    std::lock_guard lock(mu_);
    hello = hello_line_locked(id);
  }
  if (Status sent = connection.send(hello, deadline); !sent) return sent;
  while (true) {
    auto line = connection.read_line(deadline);
    if (!line) return line.status();
    auto reply = detail::parse_reply(*line);
    if (!reply || reply->id != id) continue;  // a late reply to an earlier request
    if (!reply->ok) return Status::error("refused", "the daemon refused hello");
    apply_hello_reply(reply->body);
    return Status::ok();
  }
}

void Client::Impl::apply_hello_reply(const nlohmann::json& body) {
  const detail::HelloOutcome outcome = detail::read_hello_reply(body);
  std::lock_guard lock(mu_);
  consent_ = outcome.consent;
  if (pending_installation_ && detail::setup_settled(outcome, *pending_installation_)) {
    pending_installation_.reset();
  }
  if (pending_update_ && detail::setup_settled(outcome, *pending_update_)) {
    pending_update_.reset();
  }
  if (crash_handler_bound_) detail::arm_crash_handler(this, consent_.crash_reports);
  if (echo_) {
    for (const auto& [key, verdict] : outcome.setup) {
      echo("setup " + key, verdict);
    }
  }
}

void Client::Impl::hello_front(std::unique_lock<std::mutex>& lock) {
  std::shared_ptr<FlushWaiter> waiter = queue_.front().flush;
  if (!hello_just_said_) {
    // An open connection from before: say hello again on it for a fresh answer.
    TimePoint deadline = io_deadline_locked(SteadyClock::now());
    if (waiter) deadline = std::min(deadline, waiter->deadline);
    std::int64_t id = next_id_++;
    lock.unlock();
    Status said = say_hello(connection_, deadline, id);
    if (!said && said.code() != ipc::line_error::kTimeout) connection_.close();
    lock.lock();
  }
  pop_front_locked();
  if (waiter) {
    waiter->done = true;
    waiter->ok = true;
    flush_cv_.notify_all();
  }
}

bool Client::Impl::connection_alive() {
  // A zero deadline turns read_line into a non-blocking probe. Lines read here are late replies
  // to syncs that timed out; they are of no further use.
  while (true) {
    auto line = connection_.read_line(SteadyClock::now());
    if (line) continue;
    return line.status().code() == ipc::line_error::kTimeout;
  }
}

void Client::Impl::deliver_front(std::unique_lock<std::mutex>& lock) {
  TimePoint deadline = io_deadline_locked(SteadyClock::now());
  Status sent = Status::ok();
  std::size_t events = 1;
  std::size_t written = 0;
  if (echo_) {
    // Only this thread pops, and deque::push_back keeps references valid, so the front line
    // can be read without the lock.
    const std::string& line = queue_.front().line;
    lock.unlock();
    echo_delivery(line, deadline);
    sent = connection_.is_open() ? Status::ok() : Status::error("closed", "connection closed");
  } else {
    write_buffer_.clear();
    events = 0;
    for (auto it = queue_.begin(); it != queue_.end() && it->kind == ItemKind::kEvent; ++it) {
      if (events > 0 && write_buffer_.size() + it->line.size() > kMaxWriteBytes) break;
      write_buffer_ += it->line;
      ++events;
    }
    lock.unlock();
    sent = connection_.send(write_buffer_, deadline, &written);
  }
  lock.lock();
  if (!sent) {
    connection_.close();
    if (written == 0 && !hello_just_said_ && sent.code() == ipc::line_error::kClosed) {
      // The daemon had closed this connection while it was idle (a restart, its idle timeout)
      // and nothing went out: the next turn opens a new one and writes the same events.
      return;
    }
    // Closed mid-stream, or the daemon stopped reading: a partial line may be on the wire, so
    // this connection is done. Treat it as a failed attempt.
    on_unreachable_locked(SteadyClock::now());
    return;
  }
  for (std::size_t i = 0; i < events; ++i) pop_front_locked();
  stats_.delivered += events;
  consecutive_failures_ = 0;
  last_exchange_ = SteadyClock::now();
}

void Client::Impl::sync_front(std::unique_lock<std::mutex>& lock) {
  std::shared_ptr<FlushWaiter> waiter = queue_.front().flush;
  TimePoint deadline = std::min(waiter->deadline, stop_deadline_);
  bool ok = false;
  if (SteadyClock::now() < deadline) {
    std::int64_t id = next_id_++;
    lock.unlock();
    bool broken = false;
    if (Status sent = connection_.send(detail::sync_line(id), deadline); !sent) {
      broken = true;
    } else {
      while (true) {
        auto line = connection_.read_line(deadline);
        if (!line) {
          // A slow daemon may still answer later; the probe discards that reply. A closed
          // connection is reopened for the next item.
          broken = line.status().code() != ipc::line_error::kTimeout;
          break;
        }
        auto reply = detail::parse_reply(*line);
        if (reply && reply->id == id) {
          ok = reply->ok;
          break;
        }
      }
    }
    if (broken) connection_.close();
    lock.lock();
    if (ok) {
      consecutive_failures_ = 0;
      last_exchange_ = SteadyClock::now();
    }
  }
  pop_front_locked();
  waiter->done = true;
  waiter->ok = ok;
  flush_cv_.notify_all();
}

void Client::Impl::echo_delivery(const std::string& line, TimePoint deadline) {
  std::int64_t id = next_id_++;
  auto with_id = detail::with_id(line, id);
  if (!with_id) {
    echo(line, "dropped: could not be sent");
    return;
  }
  if (Status sent = connection_.send(*with_id, deadline); !sent) {
    // Treated as a failed attempt by the caller, which drops (and echoes) the event.
    connection_.close();
    return;
  }
  while (true) {
    auto reply_line = connection_.read_line(deadline);
    if (!reply_line) {
      if (reply_line.status().code() != ipc::line_error::kTimeout) connection_.close();
      echo(line, "no reply from the daemon in time");
      return;
    }
    auto reply = detail::parse_reply(*reply_line);
    if (!reply || reply->id != id) continue;
    echo(line, detail::verdict_of(*reply));
    return;
  }
}

void Client::Impl::echo(const std::string& line, std::string_view verdict) const {
  try {
    std::string text =
        "[dollhouse-telemetry] " + detail::echo_subject(line) + ": " + std::string(verdict) + "\n";
    std::fwrite(text.data(), 1, text.size(), stderr);
  } catch (...) {
    // Out of memory: the echo is for developers; the app goes on.
  }
}

void Client::Impl::on_unreachable_locked(TimePoint now) {
  connection_.close();
  if (consecutive_failures_ < 64) ++consecutive_failures_;
  std::uniform_real_distribution<double> fraction(0.0, 1.0);
  unreachable_until_ = now + detail::reconnect_delay(consecutive_failures_, options_.reconnect_min,
                                                     options_.reconnect_max, fraction(random_));
  drop_queue_locked();
}

void Client::Impl::drop_queue_locked() {
  for (Item& item : queue_) {
    if (item.flush) {
      item.flush->done = true;
      item.flush->ok = false;
    } else if (item.kind == ItemKind::kEvent) {
      ++stats_.dropped_no_daemon;
      if (echo_) echo(item.line, "dropped: daemon not running");
    }
  }
  // Freed by the worker once it lets go of the lock: an app thread may be waiting for it.
  if (dropped_.empty()) {
    dropped_.swap(queue_);
  } else {
    for (Item& item : queue_) dropped_.push_back(std::move(item));
  }
  queue_.clear();
  queued_events_ = 0;
  flush_cv_.notify_all();
}

void Client::Impl::pop_front_locked() {
  if (queue_.front().kind == ItemKind::kEvent) --queued_events_;
  queue_.pop_front();
}

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Client::~Client() = default;

bool Client::track(const InstallationEvent& event) noexcept {
  return impl_->submit([&] { return detail::track_line(detail::installation_event(event)); });
}

bool Client::track(const UpdateEvent& event) noexcept {
  return impl_->submit([&] { return detail::track_line(detail::update_event(event)); });
}

bool Client::track_crash(const FailureEvent& event) noexcept {
  return impl_->submit([&] { return detail::failure_line("crash", event); });
}

bool Client::track_error(const FailureEvent& event) noexcept {
  return impl_->submit([&] { return detail::failure_line("error", event); });
}

bool Client::track_json(std::string_view event_json) noexcept {
  return impl_->submit([&]() -> std::optional<std::string> {
    auto event = detail::parse_event_object(event_json);
    if (!event) return std::nullopt;
    return detail::track_line(*event);
  });
}

bool Client::usage(const Usage& usage) noexcept {
  return impl_->submit([&] { return detail::usage_line(usage); });
}

bool Client::flush(std::chrono::milliseconds timeout) noexcept {
  try {
    return impl_->flush(timeout);
  } catch (...) {
    return false;
  }
}

CrashHandlerResult Client::install_crash_handler(std::string_view component) noexcept {
  try {
    return impl_->install_crash_handler(component);
  } catch (...) {
    return CrashHandlerResult::kFailed;
  }
}

ConsentView Client::consent() const noexcept {
  try {
    return impl_->consent();
  } catch (...) {
    return {};
  }
}

ConsentView Client::refresh_consent(std::chrono::milliseconds timeout) noexcept {
  try {
    return impl_->refresh_consent(timeout);
  } catch (...) {
    return {};
  }
}

bool Client::enabled() const noexcept {
  return impl_->enabled_;
}

ClientStats Client::stats() const noexcept {
  try {
    return impl_->stats();
  } catch (...) {
    return {};
  }
}

}  // namespace dollhouse::telemetry
