// A fleet of daemons meets a server outage: 10 000 simulated clients run the daemon's own
// backoff (backoff_delay with the default kBackoffBase, kBackoffCap and kFlushInterval) on a
// simulated clock against a server that is down for 10 minutes. What a server operator needs:
// the request rate right after the server is back must stay near the steady rate, not a storm.
//
// Each client behaves as the uploader does: while it has something pending it uploads once per
// flush interval; a failure schedules the next attempt after backoff_delay(failures); a success
// resets the failures and waits a flush interval again. Every client always has something
// pending, the worst case for the server. Prints its figures; the pass figure is the ratio.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <queue>
#include <vector>

#include "daemon/settings.hpp"
#include "daemon/upload/upload_policy.hpp"

namespace dollhouse::daemon {
namespace {

using std::chrono::duration_cast;
using std::chrono::minutes;

// splitmix64: a fixed seed gives the same fleet in every run.
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(std::uint64_t seed) : state_(seed) {}
  void fill(unsigned char* buf, std::size_t n) override {
    while (n > 0) {
      std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      z ^= z >> 31;
      std::size_t k = std::min<std::size_t>(n, sizeof z);
      std::memcpy(buf, &z, k);
      buf += k;
      n -= k;
    }
  }
  std::int64_t below(std::int64_t bound) {
    std::uint64_t r = 0;
    fill(reinterpret_cast<unsigned char*>(&r), sizeof r);
    return static_cast<std::int64_t>(r % static_cast<std::uint64_t>(bound));
  }

 private:
  std::uint64_t state_;
};

struct FleetFigures {
  double steady_per_minute = 0;
  std::int64_t first_minute = 0;    // requests in the minute after the server is back
  std::int64_t busiest_minute = 0;  // the most in any minute of the two hours after
  std::int64_t failed_requests = 0;
};

FleetFigures run_fleet(int clients, minutes outage, std::uint64_t seed) {
  const Millis interval = duration_cast<Millis>(kFlushInterval);
  const Millis base = duration_cast<Millis>(kBackoffBase);
  const Millis cap = duration_cast<Millis>(kBackoffCap);
  const std::int64_t down_from = 4 * interval.count();  // long after every client started
  const std::int64_t down_until = down_from + duration_cast<Millis>(outage).count();
  const std::int64_t end = down_until + 3 * interval.count();
  SeededRandom random(seed);

  struct Attempt {
    std::int64_t at_ms;
    int client;
    bool operator>(const Attempt& o) const { return at_ms > o.at_ms; }
  };
  std::priority_queue<Attempt, std::vector<Attempt>, std::greater<>> due;
  std::vector<int> failures(static_cast<std::size_t>(clients), 0);
  for (int c = 0; c < clients; ++c) due.push({random.below(interval.count()), c});
  std::vector<std::int64_t> requests;
  FleetFigures f;
  while (!due.empty() && due.top().at_ms < end) {
    Attempt a = due.top();
    due.pop();
    requests.push_back(a.at_ms);
    int& n = failures[static_cast<std::size_t>(a.client)];
    if (a.at_ms >= down_from && a.at_ms < down_until) {
      ++f.failed_requests;
      ++n;
      due.push({a.at_ms + backoff_delay(n, base, cap, random).count(), a.client});
    } else {
      n = 0;
      due.push({a.at_ms + interval.count(), a.client});
    }
  }
  std::sort(requests.begin(), requests.end());
  auto count = [&](std::int64_t from, std::int64_t to) {
    return static_cast<std::int64_t>(std::lower_bound(requests.begin(), requests.end(), to) -
                                     std::lower_bound(requests.begin(), requests.end(), from));
  };
  const std::int64_t minute = 60'000;
  f.steady_per_minute = static_cast<double>(count(down_from - interval.count(), down_from)) /
                        (static_cast<double>(interval.count()) / minute);
  f.first_minute = count(down_until, down_until + minute);
  for (std::int64_t t = down_until; t + minute <= down_until + 2 * interval.count();
       t += minute / 6) {
    f.busiest_minute = std::max(f.busiest_minute, count(t, t + minute));
  }
  return f;
}

TEST(FleetAfterAnOutage, TheFirstMinuteAfterRecoveryStaysWithinTwiceTheSteadyRate) {
  constexpr int kClients = 10'000;
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    FleetFigures f = run_fleet(kClients, minutes(10), seed);
    const double first_ratio = static_cast<double>(f.first_minute) / f.steady_per_minute;
    const double busiest_ratio = static_cast<double>(f.busiest_minute) / f.steady_per_minute;
    std::cout << "fleet of " << kClients << ", server down 10 min, seed " << seed << ": steady "
              << f.steady_per_minute << " requests/min, first minute after "
              << "recovery " << f.first_minute << " (" << first_ratio << "x), busiest minute "
              << f.busiest_minute << " (" << busiest_ratio << "x), failed requests "
              << f.failed_requests << "\n";
    EXPECT_LE(first_ratio, 2.0) << "seed " << seed;
    EXPECT_LE(busiest_ratio, 2.0) << "seed " << seed;
    EXPECT_GT(f.failed_requests, 0) << "the outage was met";
  }
}

}  // namespace
}  // namespace dollhouse::daemon
