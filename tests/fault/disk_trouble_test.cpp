// The real daemon on a disk that is really full: its data root is a small tmpfs that a filler
// file takes up to the last byte. What `sync` confirms is exactly what telemetry.db holds, what
// the full disk refused is counted, the user's controls answer and say what they could not do,
// and service comes back by itself when the space does, with no restart.
//
// The SQLite-level faults (every write refused, the Nth write refused, telemetry.json not
// replaceable) are unit-tested in daemon_command_tests (FullDisk.*); these tests are the same
// promises end to end, on a real file system, through the real socket and dollhousectl.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "daemon/settings.hpp"
#include "daemon/storage/sqlite_event_store.hpp"
#include "tests/fault/disk_tmpfs.hpp"
#include "tests/fault/fault_run.hpp"
#include "tests/support/daemon_harness.hpp"
#include "tests/support/wait.hpp"

namespace dollhouse::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// The data root's size: small enough that a filler file takes the rest at once, and larger than
// SQLite's WAL grows before its automatic checkpoint (1000 pages, 4 MiB) plus the database, so
// that it is the filler that fills the disk. (On a smaller one the WAL fills it by itself, is
// never checkpointed, and takes back whatever space is freed.)
constexpr std::size_t kTmpfsBytes = 8 * 1024 * 1024;
// A disk that the daemon's own events fill: smaller than SQLite's default WAL (1000 pages).
constexpr std::size_t kSmallTmpfsBytes = 2 * 1024 * 1024;
// Batches sent at most while the daemon's own events fill the small disk (about 150 do).
constexpr int kMaxBatchesToFillSmallDisk = 1000;
// Events per connection: hello, this many fire-and-forget tracks, then one sync.
constexpr int kEventsPerBatch = 20;
// While the disk is full, batches sent before the first refused write must come; a WAL with
// free pages inside it may take a few more transactions first.
constexpr int kMaxBatchesBeforeRefusal = 40;
// Batches sent after the first refused one, so that several refused transactions are counted.
constexpr int kRefusedBatchesPerRound = 3;
// How long service may take to resume once space is back, and a withdrawal's deletions to
// follow (they are retried every kPersistRetryInterval): generous for a loaded machine.
constexpr auto kRecoveryDeadline = daemon::kPersistRetryInterval * 6;

json crash_event(int n) {
  return {{"eventType", "crash"},
          {"errorType", "runtime"},
          {"errorCategory", "ENOSPC"},
          {"errorMessage", "write failed " + std::to_string(n)},
          {"component", "PortfolioManager"},
          {"recovered", true}};
}

struct BatchOutcome {
  bool answered = false;
  std::int64_t accepted = 0;
  std::int64_t dropped = 0;
};

// One connection's worth of events, and what its sync says became of them.
BatchOutcome send_batch(const DaemonHarness& h, int count, int& serial) {
  TestClient c = h.client();
  if (!c.hello().value("ok", false)) return {};
  for (int i = 0; i < count; ++i) {
    if (!c.send({{"op", "track"}, {"event", crash_event(serial++)}})) return {};
  }
  json reply = c.request({{"op", "sync"}}, 60s);
  if (!reply.value("ok", false)) return {};
  return {true, reply.value("accepted", std::int64_t{-1}),
          reply.value("dropped", std::int64_t{-1})};
}

std::string db_path(const DaemonHarness& h) {
  return h.root() + "/telemetry.db";
}

std::optional<std::int64_t> count_in_db(const DaemonHarness& h, const char* query) {
  std::string error;
  auto n = query_int(db_path(h), query, error);
  EXPECT_TRUE(n.has_value()) << error;
  return n;
}

std::optional<std::int64_t> events_in_db(const DaemonHarness& h) {
  return count_in_db(h, "SELECT count(*) FROM events");
}

std::optional<std::int64_t> unsent_events_in_db(const DaemonHarness& h) {
  return count_in_db(h, "SELECT count(*) FROM events WHERE sent = 0");
}

std::int64_t dropped(const json& status, const std::string& reason) {
  return status["queue"]["dropped"].value(reason, std::int64_t{0});
}

bool daemon_alive(DaemonHarness& h) {
  return h.process() != nullptr && !process_gone(h.process()->pid());
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string listing(const std::string& dir) {
  std::string out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::error_code ec;
    out += e.path().filename().string() + "=" +
           std::to_string(e.is_regular_file() ? e.file_size(ec) : 0) + " ";
  }
  return out;
}

// Every test here: a daemon whose data root is a fresh tmpfs, consent given.
class DiskTrouble : public ::testing::Test {
 protected:
  virtual std::size_t disk_bytes() const { return kTmpfsBytes; }
  void SetUp() override {
    mount_.emplace(h_.root(), disk_bytes());
    if (!mount_->mounted()) GTEST_SKIP() << mount_->error();
    ASSERT_TRUE(h_.start()) << h_.process()->err();
    ASSERT_TRUE(h_.enable().value("ok", false));
  }
  void TearDown() override {
    h_.kill9();
    if (mount_) mount_->unmount();
  }

  std::string filler() const { return h_.root() + "/filler"; }
  void fill_disk() {
    filled_ = mount_->fill(filler());
    ASSERT_GT(filled_, 0u);
    ASSERT_EQ(mount_->free_bytes(), 0u) << "the filler took every free byte";
  }
  void free_disk() {
    ASSERT_TRUE(std::filesystem::remove(filler()));
    ASSERT_GE(mount_->free_bytes(), filled_) << "the filler's space is free again";
  }

  DaemonHarness h_;
  std::optional<TmpfsMount> mount_;  // after h_: unmounted before h_ removes its directory
  std::uint64_t filled_ = 0;
};

TEST_F(DiskTrouble, SyncCountsExactlyWhatIsStoredAndServiceResumesWhenSpaceReturns) {
  const int rounds = fault_rounds(3, 12);
  int serial = 0;
  std::int64_t sent = 0, confirmed = 0, refused = 0, mismatches = 0;
  std::string write_error;
  auto check_db = [&](const char* when, int round) {
    auto in_db = events_in_db(h_);
    ASSERT_TRUE(in_db.has_value());
    if (*in_db != confirmed) ++mismatches;
    EXPECT_EQ(*in_db, confirmed) << when << ", round " << round;
  };

  for (int round = 0; round < rounds; ++round) {
    // Room on the disk: everything is stored.
    BatchOutcome room = send_batch(h_, kEventsPerBatch, serial);
    sent += kEventsPerBatch;
    ASSERT_TRUE(room.answered) << "round " << round;
    EXPECT_EQ(room.accepted, kEventsPerBatch) << "round " << round;
    confirmed += room.accepted;
    refused += room.dropped;

    ASSERT_NO_FATAL_FAILURE(fill_disk());
    int batches_refused = 0;
    for (int b = 0; b < kMaxBatchesBeforeRefusal && batches_refused < kRefusedBatchesPerRound;
         ++b) {
      BatchOutcome full = send_batch(h_, kEventsPerBatch, serial);
      sent += kEventsPerBatch;
      ASSERT_TRUE(full.answered) << "sync answers on a full disk, round " << round;
      EXPECT_EQ(full.accepted + full.dropped, kEventsPerBatch) << "round " << round;
      confirmed += full.accepted;
      refused += full.dropped;
      if (full.dropped > 0) ++batches_refused;
    }
    ASSERT_EQ(batches_refused, kRefusedBatchesPerRound)
        << "the full disk refused no write in " << kMaxBatchesBeforeRefusal << " batches";
    ASSERT_TRUE(daemon_alive(h_));
    ASSERT_NO_FATAL_FAILURE(check_db("disk full", round));

    json status = h_.status();
    ASSERT_TRUE(status.value("ok", false)) << "status answers on a full disk: " << status.dump();
    ASSERT_TRUE(status["queue"]["writeError"].is_string()) << status["queue"].dump();
    write_error = status["queue"]["writeError"].get<std::string>();
    EXPECT_EQ(dropped(status, "storage_error"), refused) << status["queue"].dump();
    EXPECT_EQ(status["queue"].value("stored", std::int64_t{-1}), confirmed);

    // Space again: service resumes by itself.
    ASSERT_NO_FATAL_FAILURE(free_disk());
    BatchOutcome after;
    ASSERT_TRUE(wait_until(
        [&] {
          after = send_batch(h_, kEventsPerBatch, serial);
          sent += kEventsPerBatch;
          confirmed += after.accepted;
          refused += after.dropped;
          return after.answered && after.accepted == kEventsPerBatch;
        },
        kRecoveryDeadline))
        << "round " << round << ": last batch " << after.accepted << " accepted, " << after.dropped
        << " dropped; " << h_.status()["queue"].dump() << "\n"
        << listing(h_.root()) << "free " << mount_->free_bytes() << "\n"
        << h_.process()->err().substr(
               h_.process()->err().size() > 3000 ? h_.process()->err().size() - 3000 : 0);
    status = h_.status();
    EXPECT_TRUE(status["queue"]["writeError"].is_null()) << status["queue"].dump();
    EXPECT_EQ(dropped(status, "storage_error"), refused);
    ASSERT_NO_FATAL_FAILURE(check_db("space back", round));
  }
  EXPECT_EQ(mismatches, 0);
  print_figures(
      "disk_trouble_test",
      "rounds=" + std::to_string(rounds) + " events sent=" + std::to_string(sent) +
          " confirmed=" + std::to_string(confirmed) +
          " in db=" + std::to_string(*events_in_db(h_)) + " refused=" + std::to_string(refused) +
          " mismatches=" + std::to_string(mismatches) + " writeError=\"" + write_error + "\"");
}

TEST_F(DiskTrouble, UserControlsAnswerOnAFullDiskAndFinishTheirWorkWhenSpaceReturns) {
  int serial = 0;
  BatchOutcome before = send_batch(h_, kEventsPerBatch, serial);
  ASSERT_EQ(before.accepted, kEventsPerBatch);
  ASSERT_NO_FATAL_FAILURE(fill_disk());
  // The WAL's own blocks may take a few more transactions before the first refusal.
  BatchOutcome full;
  std::int64_t stored = kEventsPerBatch;
  for (int b = 0; b < kMaxBatchesBeforeRefusal && full.dropped == 0; ++b) {
    BatchOutcome one = send_batch(h_, kEventsPerBatch, serial);
    ASSERT_TRUE(one.answered);
    stored += one.accepted;
    full.answered = true;
    full.accepted += one.accepted;
    full.dropped += one.dropped;
  }
  ASSERT_GT(full.dropped, 0) << "the full disk refused a batch";

  RunResult status = h_.ctl({"telemetry", "status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  json s = json::parse(status.out, nullptr, false);
  ASSERT_TRUE(s.is_object()) << status.out;
  EXPECT_TRUE(s["queue"]["writeError"].is_string()) << s["queue"].dump();
  EXPECT_EQ(dropped(s, "storage_error"), full.dropped);
  RunResult human = h_.ctl({"telemetry", "status"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("storage_error " + std::to_string(full.dropped)), std::string::npos)
      << human.out;

  RunResult show = h_.ctl({"telemetry", "show", "--json", "--limit", "10000"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  json shown = json::parse(show.out, nullptr, false);
  ASSERT_TRUE(shown.is_array()) << show.out;
  EXPECT_EQ(static_cast<std::int64_t>(shown.size()), stored);
  EXPECT_EQ(events_in_db(h_), stored);

  // Withdrawal holds at once, and says what it could not do yet.
  RunResult disable = h_.ctl({"telemetry", "disable"});
  ASSERT_EQ(disable.exit_code, 0) << disable.err;
  EXPECT_NE(disable.out.find("Telemetry disabled"), std::string::npos) << disable.out;
  EXPECT_NE(disable.out.find("Note: "), std::string::npos)
      << "the reply says the queued events are deleted later: " << disable.out;
  s = h_.status();
  EXPECT_FALSE(s.value("enabled", true)) << s.dump();
  EXPECT_EQ(s["consent"].value("state", ""), "withdrawn");
  const std::int64_t dropped_before = s["queue"].value("droppedTotal", std::int64_t{-1});
  BatchOutcome withdrawn = send_batch(h_, kEventsPerBatch, serial);
  EXPECT_EQ(withdrawn.accepted, 0);
  s = h_.status();
  EXPECT_EQ(s["queue"].value("droppedTotal", std::int64_t{-1}), dropped_before + kEventsPerBatch)
      << s["queue"].dump();
  // Events refused by the withdrawal are counted under their reason, and storage_error counts
  // only the events the disk refused: not the counter updates, not the withdrawal's deletion.
  EXPECT_EQ(dropped(s, "storage_error"), full.dropped) << s["queue"]["dropped"].dump();
  // The withdrawal is on disk already: telemetry.json was rewritten in its own blocks.
  const std::string config = h_.root() + "/telemetry.json";
  EXPECT_EQ(json::parse(read_file(config), nullptr, false).value("consentState", ""), "withdrawn")
      << read_file(config);

  // The user's deletion holds at once on a full disk, and says that it reaches the disk later.
  RunResult del = h_.ctl({"telemetry", "delete", "--local"});
  ASSERT_EQ(del.exit_code, 0) << del.out << del.err;
  EXPECT_NE(del.out.find("Deleted " + std::to_string(stored)), std::string::npos) << del.out;
  RunResult after_delete = h_.ctl({"telemetry", "show", "--json", "--limit", "10000"});
  ASSERT_EQ(after_delete.exit_code, 0) << after_delete.err;
  EXPECT_EQ(json::parse(after_delete.out, nullptr, false), json::array()) << after_delete.out;
  RunResult exported = h_.ctl({"telemetry", "export"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_EQ(json::parse(exported.out, nullptr, false)["events"], json::array()) << exported.out;
  EXPECT_EQ(h_.status()["queue"].value("stored", std::int64_t{-1}), 0);
  const bool deleted_on_full_disk = events_in_db(h_) == 0;
  if (!deleted_on_full_disk) {
    EXPECT_NE(del.out.find("Note: "), std::string::npos) << "says it is written later: " << del.out;
  }
  ASSERT_TRUE(daemon_alive(h_));

  // Space again: the unsent events and the deletion reach the disk, unasked.
  ASSERT_NO_FATAL_FAILURE(free_disk());
  EXPECT_TRUE(wait_until(
      [&] {
        json saved = json::parse(read_file(config), nullptr, false);
        return saved.is_object() && saved.value("consentState", "") == "withdrawn" &&
               events_in_db(h_) == 0;
      },
      kRecoveryDeadline))
      << read_file(config);
  RunResult del_again = h_.ctl({"telemetry", "delete", "--local"});
  ASSERT_EQ(del_again.exit_code, 0) << del_again.err;
  EXPECT_EQ(events_in_db(h_), 0);
  s = h_.status();
  EXPECT_TRUE(s["queue"]["writeError"].is_null()) << s["queue"].dump();

  // The counters reached the disk with those writes: they survive kill -9.
  const json counted = s["queue"]["dropped"];
  h_.kill9();
  ASSERT_TRUE(h_.start()) << h_.process()->err();
  json restarted = h_.status();
  EXPECT_EQ(restarted["queue"]["dropped"], counted) << restarted["queue"].dump();
  EXPECT_EQ(restarted["consent"].value("state", ""), "withdrawn");
  print_figures("disk_trouble_test controls",
                "stored=" + std::to_string(stored) + " refused=" + std::to_string(full.dropped) +
                    " delete --local on full disk: in effect at once, " +
                    (deleted_on_full_disk ? "on disk at once" : "on disk once space returned") +
                    " dropped after kill -9=" + restarted["queue"]["dropped"].dump());
}

// A withdrawal made on a full disk is on disk before its reply: a daemon stopped then, and
// started again while the disk is still full or once it has room, never reads it as consent.
TEST_F(DiskTrouble, AWithdrawalOnAFullDiskSurvivesAStopAndARestart) {
  int serial = 0;
  ASSERT_EQ(send_batch(h_, kEventsPerBatch, serial).accepted, kEventsPerBatch);
  ASSERT_NO_FATAL_FAILURE(fill_disk());
  RunResult disable = h_.ctl({"telemetry", "disable"});
  ASSERT_EQ(disable.exit_code, 0) << disable.err;
  ASSERT_EQ(h_.status()["consent"].value("state", ""), "withdrawn");
  ASSERT_EQ(h_.stop(), 0) << "SIGTERM on a full disk is a clean stop";

  std::string still_full = "refused to start";
  if (h_.start()) {
    json s = h_.status();
    EXPECT_EQ(s["consent"].value("state", ""), "withdrawn") << s["consent"].dump();
    EXPECT_FALSE(s.value("enabled", true));
    EXPECT_EQ(send_batch(h_, kEventsPerBatch, serial).accepted, 0);
    still_full = "served, consent " + s["consent"].value("state", "");
    ASSERT_EQ(h_.stop(), 0);
  }
  ASSERT_NO_FATAL_FAILURE(free_disk());
  ASSERT_TRUE(h_.start()) << h_.process()->err();
  json s = h_.status();
  EXPECT_EQ(s["consent"].value("state", ""), "withdrawn") << s["consent"].dump();
  EXPECT_FALSE(s.value("enabled", true));
  BatchOutcome after = send_batch(h_, kEventsPerBatch, serial);
  EXPECT_EQ(after.accepted, 0) << "nothing is collected after the restart";
  EXPECT_EQ(unsent_events_in_db(h_), 0) << "the unsent events went with it";
  print_figures("disk_trouble_test withdrawal across a restart",
                "restart on the full disk: " + still_full + "; after space returned: consent " +
                    s["consent"].value("state", ""));
}

// A daemon stopped cleanly leaves no WAL behind; starting again on a disk that is full by then
// needs room for a new WAL and its index. It either serves from what it has (the reserve it
// keeps makes that room), or exits 1 saying the disk is full and where to free space, and starts
// with every event intact once there is room.
TEST_F(DiskTrouble, ADaemonStartedOnAFullDiskSaysWhyOrServesAndKeepsEveryEvent) {
  int serial = 0;
  ASSERT_EQ(send_batch(h_, kEventsPerBatch, serial).accepted, kEventsPerBatch);
  ASSERT_EQ(h_.stop(), 0);
  ASSERT_NO_FATAL_FAILURE(fill_disk());

  const bool started_full = h_.start();
  std::string refusal;
  if (started_full) {
    json s = h_.status();
    ASSERT_TRUE(s.value("ok", false)) << s.dump();
    EXPECT_EQ(s["queue"].value("stored", std::int64_t{-1}), kEventsPerBatch);
    ASSERT_EQ(h_.stop(), 0);
  } else {
    EXPECT_EQ(h_.process()->wait(30s), 1);
    refusal = h_.process()->err();
    EXPECT_NE(refusal.find(db_path(h_)), std::string::npos) << refusal;
    EXPECT_NE(refusal.find("disk full"), std::string::npos) << refusal;
    EXPECT_NE(refusal.find("free some space in " + h_.root()), std::string::npos) << refusal;
    refusal = refusal.substr(0, refusal.find('\n'));
  }

  ASSERT_NO_FATAL_FAILURE(free_disk());
  EXPECT_EQ(events_in_db(h_), kEventsPerBatch);
  ASSERT_TRUE(h_.start()) << h_.process()->err();
  EXPECT_EQ(static_cast<int>(h_.entries().size()), kEventsPerBatch);
  BatchOutcome after = send_batch(h_, kEventsPerBatch, serial);
  EXPECT_EQ(after.accepted, kEventsPerBatch);
  EXPECT_EQ(events_in_db(h_), 2 * kEventsPerBatch);
  EXPECT_TRUE(h_.status()["queue"]["writeError"].is_null());
  print_figures("disk_trouble_test start on full disk",
                std::string(started_full ? "served" : "refused to start: \"" + refusal + "\"") +
                    "; after space returned: started, in db=" +
                    std::to_string(events_in_db(h_).value_or(-1)));
}

// The daemon's own events fill a 2 MiB disk: the WAL stays within its bound instead of taking
// the disk, and `delete --local`, the user's way to make room, brings service back by itself.
class SmallDisk : public DiskTrouble {
 protected:
  std::size_t disk_bytes() const override { return kSmallTmpfsBytes; }
};

std::uintmax_t file_bytes(const std::string& path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : n;
}

TEST_F(SmallDisk, ItsOwnEventsFillItTheWalStaysBoundedAndDeleteLocalBringsServiceBack) {
  int serial = 0, batches = 0;
  std::int64_t confirmed = 0;
  BatchOutcome b;
  for (; batches < kMaxBatchesToFillSmallDisk; ++batches) {
    b = send_batch(h_, kEventsPerBatch, serial);
    ASSERT_TRUE(b.answered) << "batch " << batches;
    confirmed += b.accepted;
    if (b.dropped > 0) break;
  }
  ASSERT_GT(b.dropped, 0) << "the disk never filled: " << listing(h_.root());
  const std::string wal = db_path(h_) + "-wal";
  const std::uintmax_t wal_when_full = file_bytes(wal);
  const std::uintmax_t db_when_full = file_bytes(db_path(h_));
  const std::string files_when_full = listing(h_.root());
  EXPECT_LE(wal_when_full,
            static_cast<std::uintmax_t>(daemon::SqliteEventStore::kWalAutoCheckpointPages) * 4096 +
                daemon::SqliteEventStore::kWalSizeLimitBytes)
      << "the WAL took the disk: " << files_when_full;
  EXPECT_EQ(events_in_db(h_), confirmed);
  json s = h_.status();
  EXPECT_TRUE(s["queue"]["writeError"].is_string()) << s["queue"].dump();

  RunResult del = h_.ctl({"telemetry", "delete", "--local"});
  ASSERT_EQ(del.exit_code, 0) << del.out << del.err;
  EXPECT_NE(del.out.find("Deleted " + std::to_string(confirmed)), std::string::npos) << del.out;
  EXPECT_TRUE(h_.entries().empty());

  // Service comes back with no restart and no space freed by anyone else.
  std::int64_t after_delete = 0;
  BatchOutcome after;
  ASSERT_TRUE(wait_until(
      [&] {
        after = send_batch(h_, kEventsPerBatch, serial);
        after_delete += after.accepted;
        return after.answered && after.accepted == kEventsPerBatch;
      },
      kRecoveryDeadline))
      << "last batch " << after.accepted << " accepted; " << h_.status()["queue"].dump() << "\n"
      << listing(h_.root());
  for (int i = 0; i < 3; ++i) {
    BatchOutcome more = send_batch(h_, kEventsPerBatch, serial);
    EXPECT_EQ(more.accepted, kEventsPerBatch) << "service holds, batch " << i;
    after_delete += more.accepted;
  }
  EXPECT_EQ(events_in_db(h_), after_delete) << "only what came after the deletion";
  EXPECT_TRUE(h_.status()["queue"]["writeError"].is_null());
  print_figures("disk_trouble_test 2 MiB disk",
                "batches until full=" + std::to_string(batches + 1) + " confirmed=" +
                    std::to_string(confirmed) + " wal when full=" + std::to_string(wal_when_full) +
                    " db when full=" + std::to_string(db_when_full) + " (" + files_when_full +
                    ") after delete --local: accepted=" + std::to_string(after_delete) +
                    " wal now=" + std::to_string(file_bytes(wal)));
}

}  // namespace
}  // namespace dollhouse::testing
