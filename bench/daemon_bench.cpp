// The daemon and the client library, every figure beside a baseline measured in the same run:
//   storage:  the SQLite group-commit limit (the daemon's own store and rows, WAL, the same
//             synchronous=FULL, 10 000 rows a transaction, no IPC) and a naive design (one
//             durable autocommit insert per event);
//   ingest:   1, 4 and 16 clients over the real socket until every event is durable (sync), with
//             the daemon's CPU time per 100 000 events;
//   emit:     Client::track_error() in the app's thread with the daemon running, stopped
//             (SIGSTOP) and absent, beside a bare send() of the same line;
//   memory:   the daemon's private memory idle and its peak during a flood of 10 000
//             connections and 1 M events; its wake-ups while idle;
//   upload:   the daemon draining its queue to the reference server on loopback, beside the
//             same server taking 500-event batches straight from this process;
//   dequeue:  forming and marking sent one upload batch with 1 M events queued, beside 1 k.
// Usage: dollhouse-daemon-bench [scale] [idle-seconds] [parts]  (Release build; scale 1 is the
//        full run, 0.1 a quick one; parts a comma-separated choice of storage, ingest, emit,
//        memory, upload, dequeue, all by default)
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/storage/sqlite_event_store.hpp"
#include "dollhouse/telemetry.hpp"
#include "tests/integration/server_harness.hpp"
#include "tests/support/daemon_harness.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/server/server_samples.hpp"

namespace {

using nlohmann::json;
using namespace dollhouse;
using Steady = std::chrono::steady_clock;

double seconds_since(Steady::time_point t) {
  return std::chrono::duration<double>(Steady::now() - t).count();
}

const char* verdict(bool ok) {
  return ok ? "holds" : "MISSED";
}

int missed = 0;
void target(const char* what, double value, const char* op, double bound, const char* unit = "") {
  const bool ok = op[0] == '>' ? value >= bound : value <= bound;
  if (!ok) ++missed;
  std::printf("  target %-44s %10.3g%s %s %g%s: %s\n", what, value, unit, op, bound, unit,
              verdict(ok));
}

// --- the rows ---------------------------------------------------------------------------

// A clean message of about `bytes` (the usual one is 45): an error text padded with words.
std::string message(int i, std::size_t bytes) {
  std::string text = "socket hang up while syncing portfolio item " + std::to_string(i);
  while (text.size() + 12 <= bytes) text += " retry later";
  return text;
}

json track_event(int client, int i, std::size_t message_bytes = 0) {
  return {{"eventType", "error"},
          {"errorType", "runtime"},
          {"errorCategory", "ECONNRESET"},
          {"errorMessage", message(i, message_bytes)},
          {"component", "PortfolioSync" + std::to_string(client)},
          {"recovered", true}};
}

std::string track_line(int client, int i, std::size_t message_bytes = 0) {
  return json{{"v", 1}, {"op", "track"}, {"event", track_event(client, i, message_bytes)}}.dump() +
         "\n";
}

// A body as the daemon stores it: the event with the daemon's stamp.
std::string stored_body(int i) {
  return server::samples::stamp(track_event(0, i), server::samples::uuid(1)).dump();
}

// --- storage ------------------------------------------------------------------------------

std::unique_ptr<daemon::SqliteEventStore> open_store(const std::string& path) {
  auto opened = daemon::SqliteEventStore::open(path, 0);
  if (!opened) {
    std::fprintf(stderr, "cannot open %s: %s\n", path.c_str(), opened.status().message().c_str());
    std::exit(1);
  }
  return std::move(opened->store);
}

// Appends `n` rows in transactions of `per_txn`; events per second.
double fill(daemon::SqliteEventStore& store, long n, long per_txn) {
  std::vector<std::string> bodies;
  for (int i = 0; i < 64; ++i) bodies.push_back(stored_body(i));
  const auto t0 = Steady::now();
  for (long done = 0; done < n;) {
    (void)store.begin();
    for (long i = 0; i < per_txn && done < n; ++i, ++done) {
      (void)store.append(done, "error", "bench", bodies[static_cast<std::size_t>(done % 64)]);
    }
    if (!store.commit()) std::exit(1);
  }
  return static_cast<double>(n) / seconds_since(t0);
}

// Autocommit: every insert is its own durable transaction.
double naive(daemon::SqliteEventStore& store, long n) {
  const std::string body = stored_body(0);
  const auto t0 = Steady::now();
  for (long i = 0; i < n; ++i) (void)store.append(i, "error", "bench", body);
  return static_cast<double>(n) / seconds_since(t0);
}

// Mean seconds to form one upload batch and mark it sent, each in its transaction, as the
// uploader does. The sent events stay (the local log) and as many new ones are queued after
// each batch, outside the clock, so the depth stays what it was.
double dequeue(daemon::SqliteEventStore& store, int batches) {
  double total = 0;
  const std::string body = stored_body(0);
  for (int b = 0; b < batches; ++b) {
    const auto t0 = Steady::now();
    (void)store.begin();
    auto batch = store.take_batch(500, 512 * 1024, server::samples::uuid(700'000 + b));
    (void)store.commit();
    if (!batch || batch->bodies.empty()) std::exit(1);
    (void)store.begin();
    (void)store.mark_batch_sent(batch->batch_id);
    (void)store.commit();
    total += seconds_since(t0);
    (void)store.begin();
    for (std::size_t i = 0; i < batch->bodies.size(); ++i)
      (void)store.append(b, "error", "bench", body);
    (void)store.commit();
  }
  return total / batches;
}

// --- the daemon process -----------------------------------------------------------------

struct ProcessFigures {
  double cpu_seconds = 0;  // user + system
  long private_kib = 0;    // Private_Clean + Private_Dirty
  long private_dirty_kib = 0;
  long rss_kib = 0;
  long context_switches = 0;  // voluntary + involuntary, all threads
};

long field_kib(const std::string& text, const std::string& name) {
  auto at = text.find(name + ":");
  return at == std::string::npos ? 0 : std::atol(text.c_str() + at + name.size() + 1);
}

ProcessFigures figures_of(pid_t pid) {
  ProcessFigures f;
  const std::string dir = "/proc/" + std::to_string(pid);
  {
    std::ifstream in(dir + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), {});
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string v;
    long utime = 0, stime = 0;
    for (int i = 3; fields >> v; ++i) {
      if (i == 14) utime = std::atol(v.c_str());
      if (i == 15) {
        stime = std::atol(v.c_str());
        break;
      }
    }
    f.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  {
    std::ifstream in(dir + "/smaps_rollup");
    std::string s((std::istreambuf_iterator<char>(in)), {});
    f.private_dirty_kib = field_kib(s, "Private_Dirty");
    f.private_kib = f.private_dirty_kib + field_kib(s, "Private_Clean");
    f.rss_kib = field_kib(s, "Rss");
  }
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator(dir + "/task", ec)) {
    std::ifstream in(task.path() / "status");
    std::string s((std::istreambuf_iterator<char>(in)), {});
    f.context_switches +=
        field_kib(s, "voluntary_ctxt_switches") + field_kib(s, "nonvoluntary_ctxt_switches");
  }
  return f;
}

bool start_with_consent(testing::DaemonHarness& d, const testing::Env& env = {}) {
  if (!d.start(env)) {
    std::fprintf(stderr, "the daemon did not start\n");
    return false;
  }
  return d.enable().value("ok", false);
}

// `clients` connections each send hello, their events and a sync in one write; events/s until
// every sync reply (all durable) has arrived.
double ingest(testing::DaemonHarness& d, int clients, int per_client,
              std::size_t message_bytes = 0) {
  std::vector<std::string> payloads;
  for (int c = 0; c < clients; ++c) {
    std::string p = R"({"v":1,"op":"hello","id":1,"app":"bench","appVersion":"1.0.0"})"
                    "\n";
    for (int i = 0; i < per_client; ++i) p += track_line(c, i, message_bytes);
    p += R"({"v":1,"op":"sync","id":7})"
         "\n";
    payloads.push_back(std::move(p));
  }
  std::atomic<long> confirmed{0};
  const auto t0 = Steady::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto deadline = Steady::now() + std::chrono::seconds(300);
      auto conn = ipc::LineConnection::connect(d.socket(), deadline);
      if (!conn || !conn->send(payloads[static_cast<std::size_t>(c)], deadline)) return;
      for (int replies = 0; replies < 2; ++replies) {
        auto reply = conn->read_line(deadline);
        if (!reply) return;
        json j = json::parse(*reply, nullptr, false);
        if (j.is_object() && j.value("id", json()) == json(7)) confirmed += j.value("accepted", 0);
      }
    });
  }
  for (auto& t : threads) t.join();
  const double secs = seconds_since(t0);
  if (confirmed != static_cast<long>(clients) * per_client) {
    std::fprintf(stderr, "only %ld of %d events confirmed\n", confirmed.load(),
                 clients * per_client);
  }
  return static_cast<double>(confirmed) / secs;
}

// --- emit latency -----------------------------------------------------------------------

struct Latency {
  double p50 = 0, p99 = 0, p999 = 0, max = 0;  // microseconds
};

Latency latency_of(std::vector<double>& v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
  };
  return {at(0.5), at(0.99), at(0.999), v.back()};
}

// Calls in bursts of 100, 2 ms apart: an app that reports errors in spurts, not a tight loop
// that only measures a full queue.
template <typename Call>
Latency time_calls(int calls, Call&& call) {
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(calls));
  for (int i = 0; i < calls; ++i) {
    if (i % 100 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const auto t0 = Steady::now();
    call(i);
    us.push_back(std::chrono::duration<double, std::micro>(Steady::now() - t0).count());
  }
  return latency_of(us);
}

telemetry::FailureEvent failure(int i) {
  return {"runtime", "ECONNRESET",
          "socket hang up while syncing portfolio item " + std::to_string(i % 1000),
          "PortfolioSync", true};
}

Latency emit_latency(const std::string& socket, int calls) {
  telemetry::ClientOptions options;
  options.app = "bench";
  options.app_version = "1.0.0";
  options.socket_path = socket;
  options.environment = std::map<std::string, std::string>{};
  telemetry::Client client(options);
  for (int i = 0; i < 200; ++i) client.track_error(failure(i));  // connects, warms up
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return time_calls(calls, [&](int i) { client.track_error(failure(i)); });
}

// The baseline: the same line written with one send() on a connected socket to a reader.
Latency send_baseline(const std::string& dir, int calls) {
  const std::string path = dir + "/baseline.sock";
  int lfd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(lfd, 4) != 0) {
    std::exit(1);
  }
  std::thread reader([lfd] {
    int fd = ::accept(lfd, nullptr, nullptr);
    char buf[65536];
    while (::read(fd, buf, sizeof buf) > 0) {
    }
    ::close(fd);
  });
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) std::exit(1);
  const std::string line = track_line(0, 1);
  Latency l = time_calls(calls, [&](int) {
    ssize_t n = ::send(fd, line.data(), line.size(), MSG_NOSIGNAL);
    (void)n;
  });
  ::close(fd);
  reader.join();
  ::close(lfd);
  return l;
}

void print_latency(const char* name, const Latency& l) {
  std::printf("  %-40s p50 %7.2f us  p99 %7.2f us  p99.9 %8.2f us  max %9.1f us\n", name, l.p50,
              l.p99, l.p999, l.max);
}

// --- the flood --------------------------------------------------------------------------

struct Flood {
  long connected = 0;
  long events_written = 0;
  long peak_private_kib = 0;
  long peak_private_dirty_kib = 0;
  long peak_rss_kib = 0;
  double seconds = 0;
};

// `connections` connections are opened and kept open; each writes hello and `per_connection`
// events. The daemon serves kMaxConnections at a time and closes the rest.
Flood flood(testing::DaemonHarness& d, int connections, int per_connection) {
  Flood out;
  const pid_t pid = d.process()->pid();
  std::atomic<bool> done{false};
  std::thread sampler([&] {
    while (!done.load()) {
      ProcessFigures f = figures_of(pid);
      out.peak_private_kib = std::max(out.peak_private_kib, f.private_kib);
      out.peak_private_dirty_kib = std::max(out.peak_private_dirty_kib, f.private_dirty_kib);
      out.peak_rss_kib = std::max(out.peak_rss_kib, f.rss_kib);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  std::string payload = R"({"v":1,"op":"hello","id":1,"app":"flood","appVersion":"1.0.0"})"
                        "\n";
  for (int i = 0; i < per_connection; ++i) payload += track_line(i % 7, i);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", d.socket().c_str());
  const auto t0 = Steady::now();
  const int threads = 8;
  std::vector<std::vector<int>> fds(threads);
  std::atomic<long> connected{0}, written{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int c = t; c < connections; c += threads) {
        int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd < 0) break;
        // A full listen backlog refuses at once (EAGAIN): try again shortly, as a flood would.
        int rc = -1;
        for (int tries = 0; tries < 1000; ++tries) {
          rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
          if (rc == 0 || errno != EAGAIN) break;
          std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
        if (rc != 0) {
          ::close(fd);
          continue;
        }
        ++connected;
        fds[static_cast<std::size_t>(t)].push_back(fd);
        // Whatever the socket takes without waiting: a flood does not wait for anyone.
        std::size_t sent = 0;
        for (int tries = 0; sent < payload.size() && tries < 200; ++tries) {
          ssize_t n = ::send(fd, payload.data() + sent, payload.size() - sent, MSG_NOSIGNAL);
          if (n > 0) {
            sent += static_cast<std::size_t>(n);
          } else if (errno == EAGAIN) {
            std::this_thread::sleep_for(std::chrono::microseconds(200));
          } else {
            break;
          }
        }
        written += static_cast<long>(
            std::count(payload.begin(), payload.begin() + static_cast<long>(sent), '\n'));
      }
    });
  }
  for (auto& w : workers) w.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  for (auto& v : fds) {
    for (int fd : v) ::close(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  out.seconds = seconds_since(t0);
  done = true;
  sampler.join();
  out.connected = connected;
  out.events_written = written - connected;  // the hello lines are not events
  return out;
}

// --- upload -----------------------------------------------------------------------------

// The daemon's queue of `events` drained by flush requests; events/s.
double upload(testing::DaemonHarness& d, long events, long& sent_out) {
  testing::TestClient c = d.client();
  c.hello("bench");
  for (long i = 0; i < events; ++i) c.send(json::parse(track_line(0, static_cast<int>(i))));
  (void)c.request({{"v", 1}, {"op", "sync"}});
  const auto t0 = Steady::now();
  long sent = 0;
  for (int round = 0; round < 100000; ++round) {
    json r = c.request({{"v", 1}, {"op", "flush"}}, std::chrono::seconds(60));
    const json& f = r.value("flush", json::object());
    sent += f.value("sentEvents", 0L);
    if (f.value("nothingToSend", false) || !f.value("error", json()).is_null()) break;
  }
  sent_out = sent;
  return static_cast<double>(sent) / seconds_since(t0);
}

// The same server taking 500-event batches from this process over one keep-alive connection.
double upload_baseline(const testing::ServerProcess& server, long events) {
  using namespace server::samples;
  testing::HttpClient http = server.client();
  json batch_events = json::array();
  for (int i = 0; i < 500; ++i) batch_events.push_back(stamp(track_event(0, i), uuid(2)));
  const auto t0 = Steady::now();
  long sent = 0;
  for (long b = 0; sent < events; ++b) {
    auto reply = http.post_batch(batch(uuid(2), uuid(800'000 + b), batch_events));
    if (reply.status != 202) {
      std::fprintf(stderr, "baseline upload refused: %d %s\n", reply.status, reply.body.c_str());
      return 0;
    }
    sent += 500;
  }
  return static_cast<double>(sent) / seconds_since(t0);
}

}  // namespace

int main(int argc, char** argv) {
  const double scale = argc > 1 ? std::atof(argv[1]) : 1.0;
  const int idle_seconds = argc > 2 ? std::atoi(argv[2]) : 20;
  const std::string parts = argc > 3 ? argv[3] : "storage,ingest,emit,memory,upload,dequeue";
  auto part = [&parts](const char* name) { return parts.find(name) != std::string::npos; };
  auto scaled = [scale](long n) { return std::max(1L, static_cast<long>(n * scale)); };
  testing::TempDir dir;

  // Storage: the limit, the naive design.
  const long rows = scaled(48'000);
  double limit = 0, naive_rate = 0;
  {
    auto store = open_store(dir.path() + "/limit.db");
    limit = fill(*store, rows, 10'000);
  }
  {
    auto store = open_store(dir.path() + "/naive.db");
    naive_rate = naive(*store, scaled(2'000));
  }
  std::printf("storage: %ld rows of %zu bytes, the daemon's store, WAL, synchronous=FULL\n", rows,
              stored_body(0).size());
  std::printf("  %-44s %10.0f events/s\n", "SQLite limit (10 000 rows a transaction)", limit);
  std::printf("  %-44s %10.0f events/s\n", "naive (one durable insert per event)", naive_rate);

  // Ingest end to end, 1, 4, 16 clients.
  if (part("ingest")) {
    std::printf("ingest: hello, events and sync over the real socket until all are durable\n");
    double best = 0;
    for (int clients : {1, 4, 16}) {
      testing::DaemonHarness d;
      if (!start_with_consent(d)) return 1;
      const int per_client = static_cast<int>(rows / clients);
      const ProcessFigures before = figures_of(d.process()->pid());
      const double rate = ingest(d, clients, per_client);
      const ProcessFigures after = figures_of(d.process()->pid());
      const double cpu_per_100k =
          (after.cpu_seconds - before.cpu_seconds) * 100'000.0 / (clients * per_client);
      best = std::max(best, rate);
      std::printf(
          "  %2d clients x %6d events %18.0f events/s  = %.2f of the limit, %5.0fx naive,"
          "  CPU %.2f s per 100 000 events\n",
          clients, per_client, rate, rate / limit, rate / naive_rate, cpu_per_100k);
    }
    std::printf("  by event size, 4 clients:\n");
    for (std::size_t bytes : {std::size_t{256}, std::size_t{1024}, std::size_t{4096}}) {
      testing::DaemonHarness d;
      if (!start_with_consent(d)) return 1;
      const int per_client = static_cast<int>(rows / 4 / (bytes >= 4096 ? 4 : 1));
      const ProcessFigures before = figures_of(d.process()->pid());
      const double rate = ingest(d, 4, per_client, bytes);
      const ProcessFigures after = figures_of(d.process()->pid());
      std::printf(
          "  %5zu-byte messages (%5zu-byte lines) %10.0f events/s  CPU %.2f s per 100 000 "
          "events\n",
          bytes, track_line(0, 0, bytes).size(), rate,
          (after.cpu_seconds - before.cpu_seconds) * 100'000.0 / (4.0 * per_client));
    }
    target("ingest / SQLite limit (best of 1, 4, 16)", best / limit, ">=", 0.5);
    target("ingest / naive design", best / naive_rate, ">=", 50);
  }

  // Emit latency in the app's thread.
  if (part("emit")) {
    const int calls = static_cast<int>(scaled(20'000));
    std::printf("emit: Client::track_error() in the app's thread, %d calls in bursts of 100\n",
                calls);
    Latency baseline = send_baseline(dir.path(), calls);
    print_latency("baseline: one send() of the line", baseline);
    Latency running, stopped, absent;
    {
      testing::DaemonHarness d;
      if (!start_with_consent(d)) return 1;
      running = emit_latency(d.socket(), calls);
      ::kill(d.process()->pid(), SIGSTOP);
      stopped = emit_latency(d.socket(), calls);
      ::kill(d.process()->pid(), SIGCONT);
      d.stop();
      absent = emit_latency(d.socket(), calls);
    }
    print_latency("daemon running", running);
    print_latency("daemon stopped (SIGSTOP)", stopped);
    print_latency("daemon absent", absent);
    std::printf("  track_error() / send() at p50: running %.2f, stopped %.2f, absent %.2f\n",
                running.p50 / baseline.p50, stopped.p50 / baseline.p50, absent.p50 / baseline.p50);
    for (const auto& [name, l] : {std::pair{"running", running}, std::pair{"stopped", stopped},
                                  std::pair{"absent", absent}}) {
      std::string what = std::string("emit p50, daemon ") + name;
      target(what.c_str(), l.p50, "<=", 1, " us");
      what = std::string("emit p99, daemon ") + name;
      target(what.c_str(), l.p99, "<=", 20, " us");
      what = std::string("emit p99.9, daemon ") + name;
      target(what.c_str(), l.p999, "<=", 100, " us");
    }
  }

  // Memory and wake-ups.
  if (part("memory")) {
    testing::DaemonHarness d;
    if (!start_with_consent(d)) return 1;
    // Settled: past the one-off work a consent change schedules (kPersistRetryInterval).
    std::this_thread::sleep_for(std::chrono::seconds(12));
    const ProcessFigures idle = figures_of(d.process()->pid());
    std::this_thread::sleep_for(std::chrono::seconds(idle_seconds));
    const ProcessFigures later = figures_of(d.process()->pid());
    const double per_minute =
        static_cast<double>(later.context_switches - idle.context_switches) * 60.0 / idle_seconds;
    const int connections = static_cast<int>(scaled(10'000));
    Flood f = flood(d, connections, 100);
    const ProcessFigures after = figures_of(d.process()->pid());
    // Private dirty is the memory the daemon itself fills (heap, stacks, SQLite's cache);
    // private clean is mostly the daemon's own code, private only while no other process maps
    // the same binary.
    std::printf("memory: the daemon's own pages (private dirty; private = clean + dirty)\n");
    std::printf("  %-44s %7.1f MiB private dirty, %.1f MiB private, %.1f MiB RSS\n", "idle",
                idle.private_dirty_kib / 1024.0, idle.private_kib / 1024.0, idle.rss_kib / 1024.0);
    std::printf("  %-44s %7.1f MiB private dirty, %.1f MiB private, %.1f MiB RSS\n", "flood (peak)",
                f.peak_private_dirty_kib / 1024.0, f.peak_private_kib / 1024.0,
                f.peak_rss_kib / 1024.0);
    std::printf("  %-44s %7.1f MiB private dirty, %.1f MiB private\n", "after the flood",
                after.private_dirty_kib / 1024.0, after.private_kib / 1024.0);
    std::printf("  flood: %d connections (%ld connected), %ld events written in %.1f s\n",
                connections, f.connected, f.events_written, f.seconds);
    std::printf("  wake-ups idle: %.1f a minute (context switches of all threads over %d s)\n",
                per_minute, idle_seconds);
    target("private dirty memory during the flood", f.peak_private_dirty_kib / 1024.0, "<=", 16,
           " MiB");
    target("wake-ups idle, a minute", per_minute, "<=", 0);
  }

  // Upload to the reference server on loopback.
  if (part("upload")) {
    testing::ServerProcess server({"--rate-limit", "0", "--log-level", "warn"});
    if (!server.running()) return 1;
    const long events = scaled(20'000);
    const double direct = upload_baseline(server, events);
    testing::DaemonHarness d;
    if (!start_with_consent(d,
                            {{"DOLLHOUSE_TELEMETRY_ENDPOINT", server.url("/api/v1/telemetry")}})) {
      return 1;
    }
    long sent = 0;
    const double rate = upload(d, events, sent);
    std::printf("upload: %ld queued events to the reference server on 127.0.0.1\n", events);
    std::printf("  %-44s %10.0f events/s\n", "baseline: 500-event batches from this process",
                direct);
    std::printf("  %-44s %10.0f events/s (%ld sent) = %.2f of the baseline\n",
                "daemon (flush until the queue is empty)", rate, sent, rate / direct);
  }

  // Dequeue at depth.
  if (part("dequeue")) {
    std::printf("dequeue: form a 500-event batch and mark it sent (two transactions)\n");
    double at_small = 0, at_big = 0;
    for (long depth : {1'000L, 10'000L, 100'000L, 1'000'000L}) {
      depth = depth == 1'000 ? depth : scaled(depth);
      const std::string path = dir.path() + "/depth-" + std::to_string(depth) + ".db";
      double seconds = 0;
      {
        auto store = open_store(path);
        fill(*store, depth, 10'000);
        seconds = dequeue(*store, 20);
      }
      for (const char* suffix : {"", "-wal", "-shm", "-reserve"}) {
        std::filesystem::remove(path + suffix);
      }
      if (depth == 1'000) at_small = seconds;
      at_big = seconds;
      std::printf("  %8ld queued %35.2f ms a batch\n", depth, seconds * 1000);
    }
    target("dequeue at the deepest / at 1 k", at_big / at_small, "<=", 2);
  }
  std::printf("%d target(s) missed\n", missed);
  return 0;
}
