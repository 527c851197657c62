// Server ingest and stats throughput, in process (no sockets): batches of 100 stamped events
// through the ingest route (JSON parse, privacy re-check, SQLite transaction), then the stats
// route over the raw events, then the aggregation job, then stats over the aggregates.
// Usage: dollhouse-server-bench [batches]   (default 200)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "server/aggregation/rollup.hpp"
#include "server/routes/routes.hpp"

namespace {

using namespace dollhouse;
using namespace dollhouse::server;
using nlohmann::json;
using Steady = std::chrono::steady_clock;

std::string id(long n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012ld", n % 1000000000000L);
  return buf;
}

json event(long n, const std::string& install) {
  json e = {{"timestamp", "2025-01-13T09:30:00Z"},
            {"installId", install},
            {"version", "1.9.16"},
            {"platform", {{"os", "linux"}, {"osVersion", "Ubuntu 22"}, {"arch", "x64"}}}};
  if (n % 2) {
    e.update({{"eventType", "error"}, {"errorCategory", "EACCES"}, {"component", "GitHubAuth"}});
  } else {
    e.update({{"eventType", "crash"},
              {"errorType", "runtime"},
              {"errorCategory", "ETIMEDOUT"},
              {"errorMessage", "request to api failed after 3 retries (code 504)"},
              {"component", "MCPServer"},
              {"recovered", true}});
  }
  return e;
}

double seconds_since(Steady::time_point t) {
  return std::chrono::duration<double>(Steady::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  const long batches = argc > 1 ? std::atol(argv[1]) : 200;
  const std::string path = std::filesystem::temp_directory_path() / "dh-server-bench.db";
  std::filesystem::remove(path);
  auto storage = open_storage(path);
  if (!storage) return 1;
  const dollhouse::Clock& clock = SystemClock::instance();
  privacy::Scrubber scrubber;
  TokenBucket unlimited(0, 0, clock.now());
  ServerContext ctx{**storage, clock, scrubber, unlimited, Limits{}, {}, clock.now(), ""};

  std::vector<std::string> bodies;
  for (long b = 0; b < batches; ++b) {
    json events = json::array();
    for (long e = 0; e < 100; ++e) events.push_back(event(e, id(b)));
    bodies.push_back(
        json{{"installId", id(b)}, {"batchId", id(1000000 + b)}, {"events", events}}.dump());
  }
  auto t0 = Steady::now();
  for (const std::string& body : bodies) {
    Request r{"POST", "/api/v1/telemetry", {}, "application/json", "1.0", "", body, ""};
    if (route(ctx, r).status != 202) return 1;
  }
  double ingest = seconds_since(t0);
  std::printf("ingest: %ld batches x 100 events in %.2f s: %.0f batches/s, %.0f events/s\n",
              batches, ingest, batches / ingest, batches * 100 / ingest);

  Request stats{
      "GET", "/api/v1/stats/errors", {{"from", "2025-01-01"}, {"to", "2025-01-31"}}, "", "", "", "",
      ""};
  t0 = Steady::now();
  Response raw = route(ctx, stats);
  std::printf("stats over %ld raw events: %.1f ms\n", batches * 100, seconds_since(t0) * 1000);

  t0 = Steady::now();
  auto report = run_aggregation(**storage, clock.now() + std::chrono::hours(25), {});
  std::printf("aggregation of %zu events: %.1f ms\n", report ? report->events_rolled_up : 0,
              seconds_since(t0) * 1000);
  t0 = Steady::now();
  Response agg = route(ctx, stats);
  std::printf("stats over aggregates: %.2f ms (same answer: %s)\n", seconds_since(t0) * 1000,
              agg.body == raw.body ? "yes" : "NO");
  std::filesystem::remove(path);
  return agg.body == raw.body ? 0 : 1;
}
