// The reference server over HTTP on its two storage backends, measured in one run:
//   trivial:    a request the server refuses before storage (415), the cost of HTTP alone;
//   sqlite:     one instance on a SQLite file (WAL, synchronous=NORMAL);
//   postgresql: one instance, then two instances, on one PostgreSQL cluster started for the
//               run (fsync on, synchronous_commit=off: the same promise as SQLite's setting);
//   rollup:     ingest latency on one instance while another rolls up a day of raw events.
// Every figure comes from `connections` keep-alive connections posting batches of 10 events
// with fresh batch ids for `seconds` each, from this process over loopback.
// Usage: dollhouse-server-backends-bench [seconds] [connections] [rollup-events]
//        (defaults 5, 16 and 200000; run from a Release build)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server/aggregation/rollup.hpp"
#include "server/storage/storage.hpp"
#include "tests/integration/server_harness.hpp"
#include "tests/integration/server_pg_cluster.hpp"
#include "tests/unit/server/server_samples.hpp"

namespace {

using namespace dollhouse;
using namespace dollhouse::testing;
using namespace dollhouse::server::samples;
using Steady = std::chrono::steady_clock;

constexpr int kEventsPerBatch = 10;

struct Load {
  double requests_per_second = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  long failures = 0;
};

std::atomic<long> next_batch{1};

json make_batch(int client, int events_per_batch = kEventsPerBatch) {
  const std::string install = uuid(1 + client);
  json events = json::array();
  for (int e = 0; e < events_per_batch; ++e) {
    events.push_back(stamp(e % 2 ? error_event() : crash(), install));
  }
  return batch(install, uuid(1'000'000 + next_batch.fetch_add(1)), events);
}

double quantile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  std::size_t i =
      std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
  return v[i];
}

// `connections` threads, each with one keep-alive connection to one of `targets` in turn,
// for `seconds`; `trivial` posts a body the server refuses with 415 before any storage.
Load run_load(const std::vector<const ServerProcess*>& targets, int connections, double seconds,
              bool trivial = false, int events_per_batch = kEventsPerBatch) {
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(connections));
  std::atomic<long> failures{0};
  const auto start = Steady::now();
  const auto end =
      start + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      HttpClient client = targets[static_cast<std::size_t>(c) % targets.size()]->client();
      HttpRequest refused{"POST", "/api/v1/telemetry", "x", {{"Content-Type", "text/plain"}}};
      // The batch is made once as text; each request only gets a fresh batch id, so that the
      // load generator costs little next to the server, as a tool like wrk would.
      const json first = make_batch(c, events_per_batch);
      const std::string first_id = first["batchId"].get<std::string>();
      const std::string text = first.dump();
      const std::size_t id_at = text.find(first_id);
      HttpRequest post{"POST",
                       "/api/v1/telemetry",
                       text,
                       {{"Content-Type", "application/json"},
                        {"X-Telemetry-Version", "1.0"},
                        {"Idempotency-Key", first_id}}};
      auto& mine = latencies[static_cast<std::size_t>(c)];
      while (Steady::now() < end) {
        if (!trivial) {
          const std::string id = uuid(1'000'000 + next_batch.fetch_add(1));
          post.body.replace(id_at, id.size(), id);
          post.headers.back().second = id;
        }
        const auto t0 = Steady::now();
        HttpReply r = client.send(trivial ? refused : post);
        mine.push_back(std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
        if (r.status != (trivial ? 415 : 202)) failures++;
      }
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Steady::now() - start).count();
  std::vector<double> all;
  for (auto& v : latencies) all.insert(all.end(), v.begin(), v.end());
  Load load;
  load.requests_per_second = static_cast<double>(all.size()) / elapsed;
  load.p50_ms = quantile(all, 0.50);
  load.p99_ms = quantile(all, 0.99);
  load.max_ms = all.empty() ? 0 : *std::max_element(all.begin(), all.end());
  load.failures = failures.load();
  return load;
}

void print(const char* name, const Load& l) {
  std::printf("  %-36s %8.0f req/s %9.0f ev/s   p50 %6.2f ms  p99 %6.2f ms  max %7.2f ms%s\n", name,
              l.requests_per_second, l.requests_per_second * kEventsPerBatch, l.p50_ms, l.p99_ms,
              l.max_ms, l.failures ? "  FAILURES" : "");
  if (l.failures) std::printf("    %ld requests failed\n", l.failures);
}

const char* holds(bool ok) {
  return ok ? "holds" : "MISSED";
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 5.0;
  const int connections = argc > 2 ? std::atoi(argv[2]) : 16;
  const long rollup_events = argc > 3 ? std::atol(argv[3]) : 200'000;

  PostgresCluster cluster(PostgresCluster::Durability::kDurable);
  if (!cluster.available()) {
    std::fprintf(stderr, "server-backends-bench: %s\n", cluster.reason().c_str());
    return 1;
  }
  const std::vector<std::string> args = {"--rate-limit",         "0",    "--log-level", "warn",
                                         "--aggregate-interval", "86400"};
  std::printf(
      "reference server over HTTP: %d keep-alive connections, batches of %d events, "
      "%.0f s per figure\n",
      connections, kEventsPerBatch, seconds);

  Load trivial, sqlite, pg_one, pg_two, pg_before, pg_during;
  {
    ServerProcess s(args);
    if (!s.running()) return 1;
    trivial = run_load({&s}, connections, seconds, true);
    sqlite = run_load({&s}, connections, seconds);
    std::printf("  by batch size, sqlite:\n");
    for (int size : {1, 10, 100}) {
      Load l = run_load({&s}, connections, seconds / 2, false, size);
      std::printf("    %3d events a batch %14.0f req/s %9.0f ev/s   p50 %6.2f ms  p99 %6.2f ms%s\n",
                  size, l.requests_per_second, l.requests_per_second * size, l.p50_ms, l.p99_ms,
                  l.failures ? "  FAILURES" : "");
    }
  }
  {
    ServerProcess a(args, cluster.uri()), b(args, cluster.uri());
    if (!a.running() || !b.running()) return 1;
    pg_one = run_load({&a}, connections, seconds);
    pg_two = run_load({&a, &b}, connections, seconds);

    // A day of raw events, received 25 hours ago, for a rollup beside the load.
    auto storage = server::open_storage(cluster.uri());
    if (!storage) return 1;
    const auto old = SystemClock::instance().now() - std::chrono::hours(25);
    const std::string body = stamp(error_event(), uuid(99)).dump();
    for (long done = 0; done < rollup_events; done += 1000) {
      server::IngestBatch batch{uuid(5'000'000 + done), uuid(99), old, {}, 0};
      for (int i = 0; i < 1000; ++i)
        batch.events.push_back({"error", "2025-01-13", body, kSampleApp, "1.9.16", ""});
      if (!(*storage)->ingest_batch(batch)) return 1;
    }
    pg_before = run_load({&a}, connections, seconds);
    std::atomic<bool> rolled{false};
    double rollup_seconds = 0;
    std::size_t rolled_up = 0;
    std::thread rollup([&] {
      const auto t0 = Steady::now();
      auto report = server::run_aggregation(**storage, SystemClock::instance().now(), {});
      rollup_seconds = std::chrono::duration<double>(Steady::now() - t0).count();
      if (report) rolled_up = report->events_rolled_up;
      rolled = true;
    });
    // The load runs exactly as long as the rollup does.
    std::vector<Load> during;
    do {
      during.push_back(run_load({&a}, connections, 0.5));
    } while (!rolled.load());
    rollup.join();
    pg_during = during.front();
    for (const Load& l : during) {
      pg_during.max_ms = std::max(pg_during.max_ms, l.max_ms);
      pg_during.p99_ms = std::max(pg_during.p99_ms, l.p99_ms);
      pg_during.failures += l.failures;
    }
    print("trivial request (415, no storage)", trivial);
    print("sqlite, one instance", sqlite);
    print("postgresql, one instance", pg_one);
    print("postgresql, two instances", pg_two);
    print("postgresql, before a rollup", pg_before);
    print("postgresql, during the rollup (worst)", pg_during);
    std::printf("  rollup: %zu raw events in %.2f s beside the load\n", rolled_up, rollup_seconds);
  }
  const double pg_ratio = pg_one.requests_per_second / sqlite.requests_per_second;
  const double two_ratio = pg_two.requests_per_second / pg_one.requests_per_second;
  const double http_ratio = sqlite.requests_per_second / trivial.requests_per_second;
  std::printf("  postgresql / sqlite, one instance     = %.2f   (target >= 0.8: %s)\n", pg_ratio,
              holds(pg_ratio >= 0.8));
  std::printf("  two instances / one (postgresql)      = %.2f\n", two_ratio);
  std::printf("  sqlite / trivial request              = %.2f   (target >= 0.5: %s)\n", http_ratio,
              holds(http_ratio >= 0.5));
  std::printf("  sqlite events/s                       = %.0f   (target >= 150000: %s)\n",
              sqlite.requests_per_second * kEventsPerBatch,
              holds(sqlite.requests_per_second * kEventsPerBatch >= 150'000));
  return 0;
}
