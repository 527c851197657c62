// Exactly-once delivery from the real daemon to the real reference server, with the daemon
// killed (-9) in the middle of an upload by a relay between the two
// (tests/fault/exactly_once_proxy.hpp). The precise case: the server has stored the batch and
// answered 2xx, and the daemon dies before it hears that answer, so before it marks the events
// sent. After a restart the daemon sends the same batch id again, the server answers it as a
// duplicate, every event ends up marked sent, and the server's own database holds each
// acknowledged event exactly once. A second case kills at a random point of the upload.
#include <signal.h>
#include <sys/types.h>

#include <array>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/fault/crash_readonly_db.hpp"
#include "tests/fault/crash_seed.hpp"
#include "tests/fault/exactly_once_proxy.hpp"
#include "tests/fault/fault_run.hpp"
#include "tests/integration/server_harness.hpp"
#include "tests/support/daemon_harness.hpp"
#include "tests/support/wait.hpp"

namespace dollhouse::testing {
namespace {

using nlohmann::json;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Events per round at most: one batch (the daemon's kBatchMaxEvents is 500).
constexpr int kMaxEventsPerRound = 40;
// At KillPoint::kAfterAnswerRelayed the kill follows the relayed answer by up to this much:
// the daemon's mark-as-sent is one local transaction, a few milliseconds at most, so the kill
// lands before, during or after it.
constexpr microseconds kMaxDelayAfterRelay(5000);
// Bounds for a flush (a few milliseconds on loopback) and for a process to end.
constexpr seconds kFlushTimeout(60);
constexpr seconds kExchangeDeadline(60);
constexpr seconds kKillDeadline(30);

// Quick retries, so a transient failure never waits the default 20 minutes; requests far
// shorter than the relay's own bound.
const std::vector<std::string> kDaemonArgs = {"--backoff-base",    "50",   "--backoff-cap", "400",
                                              "--request-timeout", "20000"};

json marked_event(const std::string& marker) {
  return {{"eventType", "crash"},   {"errorType", "runtime"},     {"errorCategory", "ETIMEDOUT"},
          {"errorMessage", marker}, {"component", "UploadSuite"}, {"recovered", false}};
}

// The real server, the relay in front of it and a daemon that uploads through the relay.
struct UploadRig {
  ServerProcess server{{"--rate-limit", "0"}};
  KillingProxy proxy{server.port()};
  DaemonHarness daemon;

  bool start_daemon() {
    return daemon.start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", proxy.url("/api/v1/telemetry")}},
                        kDaemonArgs);
  }
  // Ends the daemon now running, for the relay to call at its kill point.
  std::function<void()> killer() {
    pid_t pid = daemon.process()->pid();
    return [pid] {
      ::kill(pid, SIGKILL);
      wait_until([pid] { return process_gone(pid); }, kKillDeadline);
    };
  }
  json flush() { return daemon.client().request({{"op", "flush"}}, kFlushTimeout); }
};

// `n` events with unique markers, half with ids and half fire-and-forget closed by a sync;
// returns the markers the daemon acknowledged.
std::vector<std::string> send_round(DaemonHarness& daemon, int round, int n, std::mt19937& rng) {
  TestClient app = daemon.client();
  EXPECT_TRUE(app.hello().value("ok", false));
  std::vector<std::string> acknowledged, unconfirmed;
  for (int i = 0; i < n; ++i) {
    std::string marker =
        "upload marker round " + std::to_string(round) + " event " + std::to_string(i);
    if (rng() % 2 == 0) {
      json reply = app.request({{"op", "track"}, {"event", marked_event(marker)}});
      EXPECT_TRUE(reply.value("accepted", false)) << reply.dump();
      if (reply.value("accepted", false)) acknowledged.push_back(marker);
    } else {
      EXPECT_TRUE(app.send({{"op", "track"}, {"event", marked_event(marker)}}));
      unconfirmed.push_back(marker);
    }
  }
  json sync = app.request({{"op", "sync"}});
  EXPECT_EQ(sync.value("accepted", -1), n) << sync.dump();
  if (sync.value("accepted", -1) == n) {
    acknowledged.insert(acknowledged.end(), unconfirmed.begin(), unconfirmed.end());
  }
  return acknowledged;
}

// Unsent and sent events of `batch_id` in the daemon's database, read directly.
std::pair<int, int> local_batch_state(const DaemonHarness& daemon, const std::string& batch_id) {
  ReadOnlyDb db(daemon.root() + "/telemetry.db");
  EXPECT_TRUE(db.ok()) << db.error();
  int unsent = std::atoi(
      db.scalar("SELECT count(*) FROM events WHERE batch_id = ?1 AND sent = 0", {batch_id})
          .c_str());
  int sent = std::atoi(
      db.scalar("SELECT count(*) FROM events WHERE batch_id = ?1 AND sent = 1", {batch_id})
          .c_str());
  EXPECT_TRUE(db.ok()) << db.error();
  return {unsent, sent};
}

struct ServerTally {
  long long stored = 0;      // rows in raw_events with one of this test's markers
  long long duplicates = 0;  // rows beyond the first for a marker
  long long missing = 0;     // acknowledged markers the server does not hold
  long long unexpected = 0;  // markers stored that the daemon never acknowledged
};

// Compares the server's own database with what the daemon acknowledged.
ServerTally tally_server(const ServerProcess& server, const std::set<std::string>& acknowledged) {
  ReadOnlyDb db(server.database());
  EXPECT_TRUE(db.ok()) << db.error();
  std::map<std::string, int> held;
  for (const auto& row : db.rows("SELECT json_extract(body, '$.errorMessage') FROM raw_events")) {
    ++held[row[0]];
  }
  EXPECT_TRUE(db.ok()) << db.error();
  ServerTally t;
  for (const auto& [marker, n] : held) {
    t.stored += n;
    t.duplicates += n - 1;
    if (acknowledged.count(marker) == 0) ++t.unexpected;
  }
  for (const std::string& m : acknowledged) {
    if (held.count(m) == 0) {
      ++t.missing;
      ADD_FAILURE() << "acknowledged but not on the server: " << m;
    }
  }
  return t;
}

TEST(ExactlyOnce, AKillBetweenTheServersAnswerAndTheLocalMarkResendsTheBatchAndIsStoredOnce) {
  const int rounds = fault_rounds(10, 100);
  const std::uint32_t seed = fault_seed("ExactlyOnce.precise");
  std::mt19937 rng(seed);
  UploadRig rig;
  ASSERT_TRUE(rig.server.running()) << rig.server.process().err();
  ASSERT_GT(rig.proxy.port(), 0);
  ASSERT_TRUE(rig.start_daemon()) << rig.daemon.process()->err();
  ASSERT_TRUE(rig.daemon.enable().value("ok", false));

  std::set<std::string> acknowledged;
  int kills_between = 0, resent_as_duplicate = 0;
  for (int round = 0; round < rounds; ++round) {
    const int n = std::uniform_int_distribution<int>(1, kMaxEventsPerRound)(rng);
    std::vector<std::string> acked = send_round(rig.daemon, round, n, rng);
    ASSERT_EQ(acked.size(), static_cast<std::size_t>(n)) << "round " << round;
    acknowledged.insert(acked.begin(), acked.end());

    const std::size_t before = rig.proxy.exchanges().size();
    rig.proxy.arm(KillPoint::kAfterServerAnswer, rig.killer());
    json reply = rig.flush();
    EXPECT_TRUE(reply.is_null()) << "round " << round << ": the daemon lived to answer "
                                 << reply.dump();
    ASSERT_TRUE(rig.proxy.wait_exchanges(before + 1, kExchangeDeadline)) << "round " << round;
    rig.daemon.kill9();
    const RelayedExchange killed = rig.proxy.exchanges()[before];
    ASSERT_EQ(killed.killed_at, KillPoint::kAfterServerAnswer) << "round " << round;
    EXPECT_EQ(killed.status, 202) << "round " << round;
    EXPECT_FALSE(killed.duplicate) << "round " << round << ": first delivery of the batch";

    // The server stored the batch; the daemon's copy was never marked sent.
    auto [unsent, sent] = local_batch_state(rig.daemon, killed.batch_id);
    EXPECT_EQ(unsent, n) << "round " << round;
    EXPECT_EQ(sent, 0) << "round " << round;
    if (killed.status == 202 && unsent == n && sent == 0) ++kills_between;

    ASSERT_TRUE(rig.start_daemon()) << "round " << round << ": " << rig.daemon.process()->err();
    json again = rig.flush();
    ASSERT_TRUE(again.value("ok", false)) << again.dump();
    EXPECT_TRUE(again["flush"]["error"].is_null()) << again.dump();
    EXPECT_EQ(again["flush"]["alreadyDelivered"], n) << again.dump();
    EXPECT_EQ(again["flush"]["sentEvents"], 0) << again.dump();
    const auto exchanges = rig.proxy.exchanges();
    ASSERT_EQ(exchanges.size(), before + 2) << "one resend, nothing more";
    const RelayedExchange& resend = exchanges.back();
    EXPECT_EQ(resend.batch_id, killed.batch_id) << "round " << round;
    EXPECT_EQ(resend.status, 202);
    EXPECT_TRUE(resend.duplicate) << "round " << round;
    if (resend.batch_id == killed.batch_id && resend.duplicate) ++resent_as_duplicate;
    auto [unsent_after, sent_after] = local_batch_state(rig.daemon, killed.batch_id);
    EXPECT_EQ(unsent_after, 0) << "round " << round;
    EXPECT_EQ(sent_after, n) << "round " << round;
    EXPECT_EQ(rig.daemon.status()["queue"]["pending"], 0) << "round " << round;
  }

  ServerTally tally = tally_server(rig.server, acknowledged);
  json health = rig.server.client().get("/healthz").json();
  std::ostringstream figures;
  figures << "seed=" << seed << " rounds=" << rounds
          << " kills_between_2xx_and_mark_sent=" << kills_between
          << " resent_as_duplicate=" << resent_as_duplicate << " events=" << acknowledged.size()
          << " server_stored=" << tally.stored << " duplicates=" << tally.duplicates
          << " missing=" << tally.missing
          << " server_batches_stored=" << health["counters"]["batchesStored"]
          << " server_batches_duplicate=" << health["counters"]["batchesDuplicate"];
  print_figures("exactly_once_test", figures.str());

  EXPECT_EQ(kills_between, rounds);
  EXPECT_EQ(resent_as_duplicate, rounds);
  EXPECT_EQ(tally.duplicates, 0);
  EXPECT_EQ(tally.missing, 0);
  EXPECT_EQ(tally.unexpected, 0);
  EXPECT_EQ(health["rawEvents"], acknowledged.size()) << health.dump();
  EXPECT_EQ(health["counters"]["batchesStored"], rounds) << health.dump();
  EXPECT_EQ(health["counters"]["batchesDuplicate"], rounds) << health.dump();
}

TEST(ExactlyOnce, AKillAtARandomPointOfAnUploadNeitherLosesNorDuplicatesEvents) {
  const int rounds = fault_rounds(10, 100);
  const std::uint32_t seed = fault_seed("ExactlyOnce.random");
  std::mt19937 rng(seed);
  UploadRig rig;
  ASSERT_TRUE(rig.server.running()) << rig.server.process().err();
  ASSERT_GT(rig.proxy.port(), 0);
  ASSERT_TRUE(rig.start_daemon()) << rig.daemon.process()->err();
  ASSERT_TRUE(rig.daemon.enable().value("ok", false));

  constexpr std::array<KillPoint, 4> kPoints = {
      KillPoint::kBeforeForwarding, KillPoint::kBeforeServerAnswer, KillPoint::kAfterServerAnswer,
      KillPoint::kAfterAnswerRelayed};
  std::map<KillPoint, int> kills;
  std::set<std::string> acknowledged;
  for (int round = 0; round < rounds; ++round) {
    const int n = std::uniform_int_distribution<int>(1, kMaxEventsPerRound)(rng);
    std::vector<std::string> acked = send_round(rig.daemon, round, n, rng);
    ASSERT_EQ(acked.size(), static_cast<std::size_t>(n)) << "round " << round;
    acknowledged.insert(acked.begin(), acked.end());

    const KillPoint point = kPoints[rng() % kPoints.size()];
    const microseconds delay(
        std::uniform_int_distribution<long long>(0, kMaxDelayAfterRelay.count())(rng));
    const std::size_t before = rig.proxy.exchanges().size();
    rig.proxy.arm(point, rig.killer(), delay);
    rig.flush();  // answered or not, depending on where the kill lands
    ASSERT_TRUE(rig.proxy.wait_exchanges(before + 1, kExchangeDeadline)) << "round " << round;
    ASSERT_TRUE(wait_until([&] { return !rig.proxy.armed(); }, kExchangeDeadline));
    rig.daemon.kill9();
    EXPECT_EQ(rig.proxy.exchanges()[before].killed_at, point) << "round " << round;
    ++kills[point];

    ASSERT_TRUE(rig.start_daemon()) << "round " << round << ": " << rig.daemon.process()->err();
    json again = rig.flush();
    ASSERT_TRUE(again.value("ok", false)) << again.dump();
    EXPECT_TRUE(again["flush"]["error"].is_null()) << again.dump();
    EXPECT_EQ(rig.daemon.status()["queue"]["pending"], 0) << "round " << round;
  }

  int resent_as_duplicate = 0;
  for (const RelayedExchange& e : rig.proxy.exchanges()) resent_as_duplicate += e.duplicate;
  ServerTally tally = tally_server(rig.server, acknowledged);
  json health = rig.server.client().get("/healthz").json();
  std::ostringstream figures;
  figures << "seed=" << seed << " rounds=" << rounds;
  for (KillPoint p : kPoints) figures << " kills_" << to_string(p) << "=" << kills[p];
  figures << " resent_as_duplicate=" << resent_as_duplicate << " events=" << acknowledged.size()
          << " server_stored=" << tally.stored << " duplicates=" << tally.duplicates
          << " missing=" << tally.missing;
  print_figures("exactly_once_test (random kill point)", figures.str());

  EXPECT_EQ(tally.duplicates, 0);
  EXPECT_EQ(tally.missing, 0);
  EXPECT_EQ(tally.unexpected, 0);
  EXPECT_EQ(health["rawEvents"], acknowledged.size()) << health.dump();
}

}  // namespace
}  // namespace dollhouse::testing
