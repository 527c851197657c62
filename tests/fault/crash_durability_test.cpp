// kill -9 of the daemon at a random moment while four apps send events at once: after every
// restart, each event the daemon acknowledged (a `track` with an id answered accepted, or
// fire-and-forget events a later `sync` counted as accepted) is in telemetry.db, read directly
// with SQLite, none is stored twice, and PRAGMA integrity_check says ok. The time from spawning
// the daemon again until `status` answers is measured and printed.
#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/fault/crash_readonly_db.hpp"
#include "tests/fault/crash_seed.hpp"
#include "tests/fault/fault_run.hpp"
#include "tests/support/daemon_harness.hpp"
#include "tests/support/wait.hpp"

namespace dollhouse::testing {
namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Apps sending at once, each on its own connection and thread.
constexpr int kClients = 4;
// Events one app sends in one round at most. 100 long rounds x 4 apps x 100 events stay below
// the daemon's kMaxStoredEvents (50 000) and kMaxStoredBytes (20 MiB), so no event is ever
// evicted for room and every acknowledged one must still be there in the last round.
constexpr int kMaxEventsPerClientPerRound = 100;
// Largest run of fire-and-forget events before the `sync` that confirms them.
constexpr int kMaxFireAndForgetRun = 16;
// When the kill lands after every app has said hello: uniformly in this range.
constexpr milliseconds kMinKillDelay(2);
constexpr milliseconds kMaxKillDelay(300);
// Bounds for things that take milliseconds when the machine is idle.
constexpr std::chrono::seconds kClientsReadyDeadline(30);
constexpr std::chrono::seconds kServingDeadline(60);
constexpr milliseconds kReplyTimeout(20000);

json marked_event(const std::string& marker) {
  return {{"eventType", "crash"},   {"errorType", "runtime"},    {"errorCategory", "ECONNRESET"},
          {"errorMessage", marker}, {"component", "CrashSuite"}, {"recovered", true}};
}

// What one app saw in one round.
struct ClientLog {
  std::vector<std::string> acknowledged;
  int sent = 0;
  int unconfirmed = 0;  // events a reply did not account for although the daemon answered
};

// One app: hello, then a random mix of tracks with ids and fire-and-forget runs closed by a
// sync, until the daemon goes away or the round's share is sent.
void run_client(const std::string& socket, int round, int index, std::uint32_t seed,
                std::atomic<int>& ready, ClientLog& log) {
  TestClient client(socket);
  bool said_hello = client.connected() && client.hello().value("ok", false);
  ready.fetch_add(1);
  if (!said_hello) return;
  std::mt19937 rng(seed);
  std::int64_t confirmed_accepted = 0;  // the connection's accepted count as last known
  auto marker = [&](int n) {
    return "crash marker round " + std::to_string(round) + " app " + std::to_string(index) +
           " event " + std::to_string(n);
  };
  while (log.sent < kMaxEventsPerClientPerRound) {
    if (std::uniform_int_distribution<int>(0, 1)(rng) == 0) {
      std::string m = marker(log.sent++);
      json reply = client.request({{"op", "track"}, {"event", marked_event(m)}}, kReplyTimeout);
      if (reply.is_null()) return;  // the daemon is gone: the event is not acknowledged
      if (reply.value("ok", false) && reply.value("accepted", false)) {
        log.acknowledged.push_back(m);
        ++confirmed_accepted;
      } else {
        ++log.unconfirmed;
      }
      continue;
    }
    int run = std::uniform_int_distribution<int>(
        1, std::min(kMaxFireAndForgetRun, kMaxEventsPerClientPerRound - log.sent))(rng);
    std::vector<std::string> batch;
    for (int i = 0; i < run; ++i) {
      batch.push_back(marker(log.sent++));
      if (!client.send({{"op", "track"}, {"event", marked_event(batch.back())}})) return;
    }
    json reply = client.request({{"op", "sync"}}, kReplyTimeout);
    if (reply.is_null()) return;
    std::int64_t accepted = reply.value("accepted", std::int64_t{-1});
    if (reply.value("ok", false) && accepted == confirmed_accepted + run) {
      log.acknowledged.insert(log.acknowledged.end(), batch.begin(), batch.end());
    } else {
      log.unconfirmed += run;  // which of them were kept cannot be told: none counts
    }
    confirmed_accepted = std::max(confirmed_accepted, accepted);
  }
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  auto at = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(at, values.size() - 1)];
}

TEST(CrashDurability, EveryAcknowledgedEventSurvivesKillNineUnderConcurrentLoad) {
  const int rounds = fault_rounds(10, 100);
  const std::uint32_t seed = fault_seed("CrashDurability");
  std::mt19937 rng(seed);

  DaemonHarness h;
  ASSERT_TRUE(h.start()) << h.process()->err();
  ASSERT_TRUE(h.enable().value("ok", false));
  const std::string db_path = h.root() + "/telemetry.db";

  std::set<std::string> acknowledged;
  std::vector<double> restart_ms;
  long long lost_total = 0, duplicates_total = 0, unconfirmed_total = 0, sent_total = 0;
  long long kept_unacknowledged = 0;
  int integrity_ok = 0;

  for (int round = 0; round < rounds; ++round) {
    std::atomic<int> ready{0};
    std::vector<ClientLog> logs(kClients);
    std::vector<std::thread> apps;
    // Joins the apps on every way out of the round, a failed assertion included: each one stops
    // at the kill or after its share of events.
    struct JoinAll {
      std::vector<std::thread>& threads;
      ~JoinAll() {
        for (auto& t : threads) {
          if (t.joinable()) t.join();
        }
      }
    } join_all{apps};
    for (int i = 0; i < kClients; ++i) {
      apps.emplace_back(run_client, h.socket(), round, i, static_cast<std::uint32_t>(rng()),
                        std::ref(ready), std::ref(logs[static_cast<std::size_t>(i)]));
    }
    ASSERT_TRUE(wait_until([&] { return ready.load() == kClients; }, kClientsReadyDeadline));
    milliseconds delay(std::uniform_int_distribution<long long>(kMinKillDelay.count(),
                                                                kMaxKillDelay.count())(rng));
    std::this_thread::sleep_for(delay);  // the fault's moment, not a wait for anything
    h.kill9();
    ASSERT_TRUE(h.process()->wait(milliseconds(0)).has_value()) << "daemon still running";
    for (auto& t : apps) t.join();
    for (const ClientLog& log : logs) {
      for (const std::string& m : log.acknowledged) acknowledged.insert(m);
      unconfirmed_total += log.unconfirmed;
      sent_total += log.sent;
    }

    // Restart on the same data root; serving means `status` answers.
    const auto spawned = SteadyClock::now();
    ASSERT_TRUE(h.start()) << "round " << round << ": " << h.process()->err();
    json status;
    ASSERT_TRUE(wait_until(
        [&] {
          status = h.status();
          return status.value("ok", false);
        },
        kServingDeadline))
        << "round " << round;
    restart_ms.push_back(
        std::chrono::duration<double, std::milli>(SteadyClock::now() - spawned).count());

    ReadOnlyDb db(db_path);
    ASSERT_TRUE(db.ok()) << db.error();
    const std::string integrity = db.integrity_check();
    EXPECT_EQ(integrity, "ok") << "round " << round;
    if (integrity == "ok") ++integrity_ok;
    std::map<std::string, int> stored;
    for (const auto& row :
         db.rows("SELECT json_extract(body, '$.errorMessage') FROM events WHERE event_type = ?1",
                 {"crash"})) {
      ++stored[row[0]];
    }
    ASSERT_TRUE(db.ok()) << db.error();
    long long lost = 0;
    for (const std::string& m : acknowledged) {
      if (stored.count(m) == 0) {
        ++lost;
        ADD_FAILURE() << "round " << round << ": acknowledged but not stored: " << m;
      }
    }
    long long duplicates = 0;
    for (const auto& [m, n] : stored) duplicates += n - 1;
    lost_total += lost;
    duplicates_total += duplicates;
    // Events the daemon had taken but not yet confirmed when it died: kept or not, both fine.
    kept_unacknowledged = 0;
    for (const auto& entry : stored) kept_unacknowledged += acknowledged.count(entry.first) == 0;
    EXPECT_EQ(duplicates, 0) << "round " << round;
  }

  std::ostringstream figures;
  figures << "seed=" << seed << " rounds=" << rounds << " clients=" << kClients
          << " sent=" << sent_total << " acknowledged=" << acknowledged.size()
          << " lost=" << lost_total << " duplicates=" << duplicates_total
          << " unconfirmed=" << unconfirmed_total << " kept_unacknowledged=" << kept_unacknowledged
          << " integrity_ok=" << integrity_ok << "/" << rounds
          << " restart_to_serving_ms_p50=" << percentile(restart_ms, 0.5)
          << " restart_to_serving_ms_max=" << percentile(restart_ms, 1.0);
  print_figures("crash_durability_test", figures.str());

  EXPECT_EQ(lost_total, 0);
  EXPECT_EQ(integrity_ok, rounds);
  EXPECT_EQ(unconfirmed_total, 0) << "with consent given every answered event is accepted";
  EXPECT_GT(acknowledged.size(), 0u) << "the load acknowledged nothing: the test proved nothing";
}

}  // namespace
}  // namespace dollhouse::testing
