// The uploader through a server outage: the real Uploader, its SQLite queue on the storage
// thread, a fake wall clock and a seeded random source, against a real HTTP server on
// 127.0.0.1 that answers 500 (or 429/503 with Retry-After) while the simulated outage lasts.
//
// The uploader's timer is a steady timer armed for "the decided moment minus now", so moving
// the fake clock does not fire it. The simulated-hour tests therefore play the timer: after
// each failure they read the decided moment from status, move the clock there and start the
// attempt (a flush at or after the decided moment is an ordinary attempt). The wall-clock jump
// tests use short real waits instead and let the uploader's own timer fire.
//
// Each test prints its figures: attempts, largest gap, and the jitter seen (gap / window).
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/settings.hpp"
#include "daemon/storage/sqlite_event_store.hpp"
#include "daemon/upload/uploader.hpp"
#include "tests/support/fake_clock.hpp"
#include "tests/support/temp_dir.hpp"

namespace dollhouse::daemon {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using nlohmann::json;
using std::chrono::duration_cast;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

// Monday 2026-11-30 12:00:00 UTC, on a whole second so HTTP-dates land on exact milliseconds.
const SystemTime kStart = from_unix_millis(1'796'040'000'000LL);
constexpr milliseconds kYear = duration_cast<milliseconds>(hours(24 * 365));
// Events queued for the outage: one batch.
constexpr int kQueuedEvents = 5;
// How long any wait of the test's I/O loop may take on a loaded machine before it is a failure.
constexpr auto kLoopDeadline = seconds(60);
// Real-time schedule of the wall-clock jump tests: short enough to wait for, long enough that a
// timer firing early or a burst of attempts is told apart from the decided waits.
constexpr milliseconds kJumpBase(200);
constexpr milliseconds kJumpCap(800);
// What a loaded 2-core machine may add to a real timer's wait before a late attempt counts as a
// stalled timer (a stall after a year's jump is a year).
constexpr auto kSchedulingSlack = seconds(10);

// splitmix64: a fixed seed gives the same jitter in every run.
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(std::uint64_t seed) : state_(seed) {}
  void fill(unsigned char* buf, std::size_t n) override {
    while (n > 0) {
      std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      z ^= z >> 31;
      const std::size_t k = std::min<std::size_t>(n, sizeof z);
      std::memcpy(buf, &z, k);
      buf += k;
      n -= k;
    }
  }

 private:
  std::uint64_t state_;
};

// "Mon, 30 Nov 2026 15:00:00 GMT" (IMF-fixdate), as an HTTP server writes Retry-After.
std::string http_date(SystemTime t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day date(day);
  const hh_mm_ss time(floor<seconds>(t - day));
  char text[40];
  std::snprintf(text, sizeof text, "%s, %02u %s %04d %02d:%02d:%02d GMT",
                kDays[weekday(day).c_encoding()], static_cast<unsigned>(date.day()),
                kMonths[static_cast<unsigned>(date.month()) - 1], static_cast<int>(date.year()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return text;
}

// The server's answer to one request.
struct Answer {
  int status = 500;
  std::string retry_after;  // empty: no Retry-After header
};

// An ingestion server on 127.0.0.1, served by the test's own I/O loop (the uploader's): reads
// one request per connection, records it, answers what `respond` says and closes.
class LoopbackServer {
 public:
  struct Received {
    SystemTime at;  // the fake clock when it arrived
    SteadyClock::time_point steady_at;
    std::string batch_id;  // Idempotency-Key
  };
  // What to answer a request that arrives at `now` on the fake clock.
  using Respond = std::function<Answer(SystemTime now)>;

  LoopbackServer(asio::io_context& io, const Clock& clock, Respond respond)
      : acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}),
        clock_(clock),
        respond_(std::move(respond)) {
    accept();
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) +
           "/api/v1/telemetry";
  }
  const std::vector<Received>& received() const { return received_; }

 private:
  struct Exchange {
    explicit Exchange(asio::ip::tcp::socket s) : stream(std::move(s)) {}
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    http::response<http::string_body> response;
  };

  void accept() {
    acceptor_.async_accept([this](beast::error_code ec, asio::ip::tcp::socket socket) {
      if (ec) return;
      auto x = std::make_shared<Exchange>(std::move(socket));
      http::async_read(x->stream, x->buffer, x->request,
                       [this, x](beast::error_code read_ec, std::size_t) {
                         if (!read_ec) answer(x);
                       });
      accept();
    });
  }

  void answer(const std::shared_ptr<Exchange>& x) {
    received_.push_back(
        {clock_.now(), SteadyClock::now(), std::string(x->request["Idempotency-Key"])});
    const Answer a = respond_(clock_.now());
    x->response.result(static_cast<http::status>(a.status));
    x->response.set(http::field::content_type, "application/json");
    if (!a.retry_after.empty()) x->response.set(http::field::retry_after, a.retry_after);
    x->response.body() = R"({"reason":"outage"})";
    x->response.keep_alive(false);
    x->response.prepare_payload();
    http::async_write(x->stream, x->response, [x](beast::error_code, std::size_t) {
      beast::error_code ignored;
      x->stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    });
  }

  asio::ip::tcp::acceptor acceptor_;
  const Clock& clock_;
  Respond respond_;
  std::vector<Received> received_;
};

// The uploader's real parts: queue, storage thread, uploader and server on one I/O loop.
class OutageRig {
 public:
  OutageRig(UploadSettings settings, LoopbackServer::Respond respond, std::uint64_t seed = 1)
      : clock(kStart),
        random(seed),
        settings_(settings),
        storage(open_store(), clock, {kMaxStoredEvents, kMaxStoredBytes, kMaxTasksPerCommit}),
        server(io, clock, std::move(respond)),
        uploader(io, storage, clock, random, server.url(), "", settings,
                 [] { return std::optional<ipc::Blocker>(); }) {
    Status st = storage.start();
    EXPECT_TRUE(st) << st.message();
    queue_events(kQueuedEvents);
    UploadSnapshot snapshot;
    snapshot.pending_events = kQueuedEvents;
    uploader.start(snapshot);
  }
  ~OutageRig() {
    storage.stop();
    io.poll();
  }

  // Turns the I/O loop until `done` (false after kLoopDeadline: a failure).
  bool run_until(const std::function<bool()>& done) {
    const auto deadline = SteadyClock::now() + kLoopDeadline;
    while (!done()) {
      if (SteadyClock::now() > deadline) {
        ADD_FAILURE() << "timed out waiting for the uploader";
        return false;
      }
      io.restart();
      io.run_one_for(milliseconds(10));
    }
    return true;
  }

  // One attempt now, as the timer would start it; returns the cycle's outcome.
  json attempt() {
    std::optional<json> outcome;
    uploader.flush_now([&](json o) { outcome = std::move(o); });
    run_until([&] { return outcome.has_value(); });
    return outcome.value_or(json());
  }

  json upload_status() const { return uploader.status_json(); }
  int failures() const { return upload_status().value("consecutiveFailures", -1); }

  // The moment the uploader decided to try next (nullopt when nothing is planned).
  std::optional<SystemTime> next_attempt() const {
    json next = upload_status()["nextAttempt"];
    SystemTime t;
    if (!next.is_string() || !parse_iso8601(next.get<std::string>(), t)) return std::nullopt;
    return t;
  }

  // The largest delay backoff may choose after `failures` failures in a row.
  milliseconds window(int failures) const {
    std::int64_t w = settings_.backoff_base.count();
    for (int i = 1; i < failures && w < settings_.backoff_cap.count(); ++i) w *= 2;
    return milliseconds(std::min(w, settings_.backoff_cap.count()));
  }

  ::dollhouse::testing::TempDir dir;
  asio::io_context io;
  ::dollhouse::testing::FakeClock clock;
  SeededRandom random;

 private:
  UploadSettings settings_;

 public:
  StorageWorker storage;
  LoopbackServer server;
  Uploader uploader;

 private:
  std::unique_ptr<EventStore> open_store() {
    auto opened = SqliteEventStore::open(dir.file("telemetry.db"), to_unix_millis(kStart));
    if (!opened) {
      ADD_FAILURE() << opened.status().message();
      return nullptr;
    }
    return std::move(opened->store);
  }

  void queue_events(int n) {
    bool committed = false;
    storage.post([n, &committed, this](StorageContext& ctx) {
      for (int i = 0; i < n; ++i) {
        json event = {{"eventType", "crash"},
                      {"installId", "550e8400-e29b-41d4-a716-446655440000"},
                      {"errorType", "runtime"},
                      {"errorCategory", "ECONNRESET"},
                      {"errorMessage", "socket hang up " + std::to_string(i)},
                      {"component", "GitHubAuth"},
                      {"recovered", true}};
        (void)ctx.store.append(to_unix_millis(kStart), "crash", "outage-probe", event.dump());
      }
      ctx.on_commit.push_back([&committed, this](const Status& st) {
        EXPECT_TRUE(st) << st.message();
        asio::post(io, [&committed] { committed = true; });
      });
    });
    run_until([&] { return committed; });
  }
};

// The gaps one run of failures produced, and how they sat in their windows.
struct GapFigures {
  int attempts = 0;
  milliseconds max_gap{0};
  double min_ratio = 1.0;  // gap / window
  double max_ratio = 0.0;
  bool reached_cap = false;

  void add(milliseconds gap, milliseconds window, milliseconds cap) {
    max_gap = std::max(max_gap, gap);
    const double ratio = static_cast<double>(gap.count()) / static_cast<double>(window.count());
    min_ratio = std::min(min_ratio, ratio);
    max_ratio = std::max(max_ratio, ratio);
    reached_cap = reached_cap || window == cap;
  }
  std::string text(const std::string& what) const {
    std::ostringstream out;
    out << what << ": attempts " << attempts << ", max gap " << max_gap.count() / 1000
        << " s, jitter range seen [" << min_ratio << ", " << max_ratio << "] of the window";
    return out.str();
  }
};

// Plays an outage that ends at `until` on the fake clock: every attempt fails with the server's
// answer, its gap is checked against the full-jitter window, and the clock moves to the decided
// moment. Stops at the first attempt that succeeds.
GapFigures ride_out(OutageRig& rig, SystemTime until, const UploadSettings& settings) {
  GapFigures f;
  for (int guard = 0; guard < 1000; ++guard) {
    const SystemTime now = rig.clock.now();
    const std::size_t requests_before = rig.server.received().size();
    json outcome = rig.attempt();
    EXPECT_EQ(rig.server.received().size(), requests_before + 1) << "one request per attempt";
    if (now < until) ++f.attempts;
    if (outcome["error"].is_null()) {
      EXPECT_GE(now, until) << "delivered only once the server is back";
      EXPECT_EQ(outcome.value("sentEvents", -1), kQueuedEvents) << outcome.dump();
      return f;
    }
    const int n = rig.failures();
    EXPECT_EQ(n, f.attempts) << "each failed attempt counts once";
    auto next = rig.next_attempt();
    if (!next) {
      ADD_FAILURE() << "no next attempt after a failure: " << rig.upload_status().dump();
      return f;
    }
    const auto gap = duration_cast<milliseconds>(*next - now);
    const milliseconds window = rig.window(n);
    EXPECT_GE(gap.count(), 0) << "attempt " << n;
    EXPECT_LE(gap, window) << "attempt " << n << ": within [0, base x 2^(n-1)]";
    EXPECT_LE(gap, settings.backoff_cap) << "attempt " << n;
    f.add(gap, window, settings.backoff_cap);
    rig.clock.set(*next);
  }
  ADD_FAILURE() << "the outage never ended";
  return f;
}

TEST(Outage, AnHourOfServerErrorsIsMetWithFullyJitteredGapsThatDouble) {
  const UploadSettings settings = default_upload_settings();
  const SystemTime back_at = kStart + hours(1);
  auto rig = std::make_unique<OutageRig>(settings, [&](SystemTime now) {
    return Answer{now < back_at ? 500 : 202, ""};
  });
  GapFigures f = ride_out(*rig, back_at, settings);
  // kBackoffBase is 20 min: at least the first attempt and one retry fall in the hour, and
  // doubling windows keep it to a handful.
  EXPECT_GE(f.attempts, 2);
  EXPECT_LE(f.attempts, 12);
  std::set<std::string> batch_ids;
  for (const auto& r : rig->server.received()) batch_ids.insert(r.batch_id);
  EXPECT_EQ(batch_ids.size(), 1u) << "every retry carries the same batch id";
  EXPECT_EQ(rig->failures(), 0) << "the success resets the failures";
  std::cout << "FIGURES Outage.AnHour: " << f.text("500 for one simulated hour") << "\n";
}

TEST(Outage, ADayLongOutageNeverWaitsLongerThanTheCap) {
  const UploadSettings settings = default_upload_settings();
  const SystemTime back_at = kStart + hours(72);
  auto rig = std::make_unique<OutageRig>(
      settings,
      [&](SystemTime now) {
        return Answer{now < back_at ? 503 : 202, ""};
      },
      7);
  GapFigures f = ride_out(*rig, back_at, settings);
  EXPECT_TRUE(f.reached_cap) << "the windows grew to kBackoffCap";
  EXPECT_LE(f.max_gap, settings.backoff_cap);
  // Full jitter: gaps fall in both halves of their windows, not only near the top.
  EXPECT_LT(f.min_ratio, 0.5);
  EXPECT_GT(f.max_ratio, 0.5);
  // The cap keeps a pending batch offered at least every kBackoffCap.
  EXPECT_GE(f.attempts, 72 / 6);
  std::cout << "FIGURES Outage.ThreeDays: " << f.text("503 for 72 simulated hours") << "\n";
}

TEST(Outage, RetryAfterInSecondsOrAsADateIsWaitedForUpToTheMaximum) {
  const UploadSettings settings = default_upload_settings();
  struct Case {
    const char* name;
    int status;
    std::function<std::string(SystemTime)> header;
    milliseconds expected_wait;  // from the failed attempt to the next one
  };
  const milliseconds max = settings.max_retry_after;
  const std::vector<Case> cases = {
      {"429, seconds", 429, [](SystemTime) { return std::string("7200"); }, hours(2)},
      {"503, HTTP-date", 503, [](SystemTime now) { return http_date(now + hours(3)); }, hours(3)},
      {"429, seconds beyond the maximum", 429, [](SystemTime) { return std::string("172800"); },
       max},
      {"503, HTTP-date beyond the maximum", 503,
       [](SystemTime now) { return http_date(now + hours(24 * 10)); }, max},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto rig = std::make_unique<OutageRig>(settings, [&](SystemTime now) {
      return Answer{c.status, c.header(now)};
    });
    const SystemTime failed_at = rig->clock.now();
    json outcome = rig->attempt();
    EXPECT_FALSE(outcome["error"].is_null()) << outcome.dump();
    auto next = rig->next_attempt();
    ASSERT_TRUE(next);
    // The first backoff window (kBackoffBase) is shorter than every Retry-After here, so the
    // server's wait is exactly what is kept.
    ASSERT_LT(rig->window(1), c.expected_wait);
    EXPECT_EQ(duration_cast<milliseconds>(*next - failed_at), c.expected_wait)
        << format_iso8601(*next);
    EXPECT_LE(*next - failed_at, max) << "never beyond kMaxRetryAfter";
    std::cout << "FIGURES Outage.RetryAfter: " << c.name << ": next attempt after "
              << duration_cast<seconds>(*next - failed_at).count() << " s\n";
  }
}

// Real waits for the jump tests: the uploader's own steady timer starts each attempt.
UploadSettings jump_settings() {
  UploadSettings s = default_upload_settings();
  s.backoff_base = kJumpBase;
  s.backoff_cap = kJumpCap;
  s.max_retry_after = kJumpCap;
  return s;
}

// After the first failure the wall clock jumps by `jump`; the test then waits for the
// uploader's timer to start `retries` more attempts, optionally with a flush asked for right
// after the jump (as a user who wonders why nothing is sent would). Every gap between two
// attempts must be at least the wait decided after the first of them (no burst) and at most the
// cap plus scheduling slack on the steady clock (no stall), and each decided wait within the cap
// of the (jumped) wall clock.
void expect_steady_schedule_across_a_jump(milliseconds jump, bool flush_after_jump,
                                          const std::string& figures_name) {
  constexpr int kRetries = 4;
  const UploadSettings settings = jump_settings();
  OutageRig rig(settings, [](SystemTime) { return Answer{500, ""}; });
  json first = rig.attempt();
  ASSERT_FALSE(first["error"].is_null()) << first.dump();
  std::vector<milliseconds> decided;
  auto decide = [&] {
    auto next = rig.next_attempt();
    EXPECT_TRUE(next) << rig.upload_status().dump();
    if (!next) return;
    const auto wait = duration_cast<milliseconds>(*next - rig.clock.now());
    EXPECT_GE(wait.count(), 0);
    EXPECT_LE(wait, settings.backoff_cap) << "decided within the cap of the wall clock";
    decided.push_back(wait);
  };
  decide();
  rig.clock.advance(jump);
  if (flush_after_jump) {
    const std::size_t before = rig.server.received().size();
    rig.attempt();
    ASSERT_EQ(rig.server.received().size(), before + 1);
  }
  const std::size_t automatic_from = rig.server.received().size();
  for (int i = 0; i < kRetries; ++i) {
    const std::size_t want = automatic_from + static_cast<std::size_t>(i) + 1;
    ASSERT_TRUE(rig.run_until([&] {
      return rig.server.received().size() >= want && !rig.upload_status().value("inProgress", true);
    })) << "retry "
        << i + 1 << " never came: " << rig.upload_status().dump();
    ASSERT_EQ(rig.server.received().size(), want) << "one attempt, not many";
    decide();
  }
  const auto& got = rig.server.received();
  milliseconds max_gap(0);
  // The automatic attempts: each follows the wait decided at the failure before it. After a
  // flush asked for during a backoff, the plan made before the flush still holds.
  for (std::size_t i = automatic_from; i < got.size(); ++i) {
    const auto gap = duration_cast<milliseconds>(got[i].steady_at - got[i - 1].steady_at);
    max_gap = std::max(max_gap, gap);
    EXPECT_LE(gap, settings.backoff_cap + kSchedulingSlack) << "attempt " << i << ": no stall";
    if (!flush_after_jump || i > automatic_from) {
      EXPECT_GE(gap, decided[i - automatic_from]) << "attempt " << i << ": not early";
    }
  }
  std::cout << "FIGURES " << figures_name << ": attempts " << got.size() << ", max steady gap "
            << max_gap.count() << " ms (cap " << settings.backoff_cap.count() << " ms)\n";
}

TEST(Outage, TheWallClockSetBackAYearNeitherStallsTheTimerNorBringsABurst) {
  expect_steady_schedule_across_a_jump(-kYear, false, "Outage.ClockBack");
}

TEST(Outage, TheWallClockSetForwardAYearNeitherStallsTheTimerNorBringsABurst) {
  expect_steady_schedule_across_a_jump(kYear, false, "Outage.ClockForward");
}

TEST(Outage, AFlushAfterTheWallClockWentBackDoesNotStallTheTimer) {
  expect_steady_schedule_across_a_jump(-kYear, true, "Outage.ClockBackThenFlush");
}

TEST(Outage, AFlushAfterTheWallClockWentForwardDoesNotBringABurst) {
  expect_steady_schedule_across_a_jump(kYear, true, "Outage.ClockForwardThenFlush");
}

}  // namespace
}  // namespace dollhouse::daemon
